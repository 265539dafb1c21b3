#!/usr/bin/env node
// The `coffer` command. Kept small: `coffer run -- cmd` should start cmd almost as fast as
// node itself starts.
import { main } from './cli.js';

const code = await main(process.argv);
// Exit once what was written has been flushed; idle keep-alive sockets must not hold the
// process open.
const flush = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);
