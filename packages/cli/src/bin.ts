#!/usr/bin/env node
// The `coffer` command. Kept small: `coffer run -- cmd` should start cmd almost as fast as
// node itself starts.
import { main } from './cli.js';

// A reader that went away (`coffer audit export | head -1`) ends any command quietly, as it
// ends any Unix filter: no error line, exit code 0. Nothing more can be written there anyway.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const code = await main(process.argv);
// Exit once what was written has been flushed; idle keep-alive sockets must not hold the
// process open.
const flush = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);
