/** A kind's logo: always a data: URI from the API, so nothing is fetched. Decorative. */
export function KindLogo({ src, size = 32 }: { src: string | undefined; size?: number }) {
  if (src === undefined || !src.startsWith('data:')) {
    return (
      <span className="kind-logo kind-logo-blank" style={{ width: size, height: size }} aria-hidden="true" />
    );
  }
  return <img className="kind-logo" src={src} alt="" width={size} height={size} />;
}
