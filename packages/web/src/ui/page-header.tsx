import type { ReactNode } from 'react';

/**
 * The page's title (an h1 that receives focus after navigation, so screen readers announce the
 * new page) and its main actions.
 */
export function PageHeader(props: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  logo?: ReactNode;
}) {
  return (
    <div className="page-header">
      <div className="page-title">
        {props.logo}
        <div>
          <h1 tabIndex={-1}>{props.title}</h1>
          {props.subtitle === undefined ? null : <p className="muted page-subtitle">{props.subtitle}</p>}
        </div>
      </div>
      {props.actions === undefined ? null : <div className="page-actions">{props.actions}</div>}
    </div>
  );
}
