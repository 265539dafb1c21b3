import type { Command } from 'commander';
import { examples } from '../command-kit.js';

/**
 * `coffer server`: the standalone server, exactly what `npm start` runs
 * (`runStandaloneServer` of `@coffer/server`, in this process), configured by the same
 * `COFFER_*` variables.
 */
export function registerServerCommand(program: Command): void {
  const command = program
    .command('server')
    .description(
      'start a Coffer server: the same as `npm start` (configured by COFFER_* variables, docs/server.md)',
    );
  examples(command, ['coffer server', 'COFFER_PORT=9000 COFFER_DATA_DIR=/var/lib/coffer coffer server']);
  command.action(async () => {
    // Imported here, not at the top: every other command starts faster without the server.
    const { runStandaloneServer } = await import('@coffer/server');
    await runStandaloneServer();
    // The server runs until a signal, then exits the process itself.
    await new Promise<never>(() => {});
  });
}
