/**
 * Control characters have no place in metadata text (names, descriptions, labels, purposes);
 * NUL in particular cannot be stored by PostgreSQL. Layout (tabs, line breaks) may be allowed.
 */
const layout = new Set([0x09, 0x0a, 0x0d]);

/** Whether a text holds a control character (`allowLayout`: tabs and line breaks are fine). */
export function hasControlCharacters(text: string, allowLayout = false): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 || c === 0x7f) && !(allowLayout && layout.has(c))) return true;
  }
  return false;
}
