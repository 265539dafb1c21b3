import { MAX_LOGO_BYTES } from './kind-limits.js';

const DATA_URI = /^data:image\/(?:svg\+xml|png)(?:;charset=[A-Za-z0-9_-]+)?(;base64)?,(.*)$/s;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const REMOTE = /^(?:https?:)?\/\//i;

/**
 * Turns SVG markup into the `data:image/svg+xml;base64,...` URI a kind's `logo` holds, so
 * logos travel inside the JSON Schema and a UI never fetches one from elsewhere.
 *
 * @example
 * const logo = svgDataUri('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">...</svg>');
 */
export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

/**
 * A square tile with a coloured background and a white glyph drawn on a 64×64 grid: the
 * shape every built-in logo shares, so they look like one family in a list.
 *
 * @example
 * const logo = tileLogo('#2563eb', '<circle cx="32" cy="32" r="12" fill="#fff"/>');
 */
export function tileLogo(background: string, glyph: string): string {
  return svgDataUri(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">` +
      `<rect width="64" height="64" rx="14" fill="${background}"/>${glyph}</svg>`,
  );
}

/** The logo of a kind that brings none: a closed coffer. */
export const defaultKindLogo = tileLogo(
  '#475569',
  '<path d="M14 26h36v22a4 4 0 0 1-4 4H18a4 4 0 0 1-4-4z" fill="#fff"/>' +
    '<path d="M14 24a10 10 0 0 1 10-10h16a10 10 0 0 1 10 10z" fill="#fff" opacity=".75"/>' +
    '<rect x="28" y="30" width="8" height="10" rx="2" fill="#475569"/>',
);

/**
 * Why a logo is not acceptable, or undefined when it is. Only data: URIs of SVG or PNG
 * images pass: a remote URL would make every UI that renders the kind fetch it.
 */
export function logoProblem(logo: unknown): string | undefined {
  if (typeof logo !== 'string') return 'expected a string (a data: URI)';
  if (REMOTE.test(logo)) {
    return 'remote logo URLs are not allowed (a UI must never fetch a logo at render time); use a data: URI, or a relative path to an .svg or .png file next to a JSON definition';
  }
  const match = DATA_URI.exec(logo);
  if (match === null) return 'expected a data:image/svg+xml or data:image/png URI';
  if (logo.length > MAX_LOGO_BYTES) return `too large: at most ${MAX_LOGO_BYTES / 1024} KiB`;
  if (match[1] !== undefined && !BASE64.test(match[2] ?? '')) return 'the data: URI is not valid base64';
  return undefined;
}
