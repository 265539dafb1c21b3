import { readFileSync } from 'node:fs';

/** This package's version, printed by `coffer --version`. */
export const cliVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
