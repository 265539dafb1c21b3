import { readFileSync } from 'node:fs';

/** This package's version (the API document's `info.version`). */
export const serverVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
