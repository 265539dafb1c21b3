import { Link } from '../app/router';
import { PageHeader } from '../ui/page-header';

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        There is nothing here, or it is not for you. <Link href="/">Go to your secrets</Link>.
      </p>
    </>
  );
}
