import type { CofferClient } from '@coffer/client';
import { ConfigStore } from './config/config-store.js';
import { type Credentials, resolveCredentials } from './config/credentials.js';
import { type Progress, progressAllowed, startProgress } from './output/progress.js';
import { type Column, formatFields, formatTable } from './output/table.js';

/** The options every command takes. */
export interface CommonOptions {
  json?: boolean;
  addr?: string;
}

/**
 * What a command's action works with: its output mode, the config store, the credentials and
 * a client made on first use (so commands that need no server, and `coffer run` without
 * references, never load the SDK).
 */
export class CommandContext {
  readonly json: boolean;
  readonly addrFlag: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** The process's exit code when the action returns normally. */
  exitCode = 0;
  /**
   * How long each request waits for an answer (set before the first {@link client} call);
   * undefined waits as long as the connection lives. `coffer run` sets it when it can fall back.
   */
  requestTimeoutMs: number | undefined;
  #store: ConfigStore | undefined;
  #credentials: Credentials | undefined;
  #client: Promise<CofferClient> | undefined;

  constructor(options: CommonOptions, env: NodeJS.ProcessEnv = process.env) {
    this.json = options.json === true;
    this.addrFlag = options.addr;
    this.env = env;
  }

  get store(): ConfigStore {
    this.#store ??= new ConfigStore(this.env);
    return this.#store;
  }

  credentials(): Credentials {
    this.#credentials ??= resolveCredentials(this.store.read(), this.env, this.addrFlag);
    return this.#credentials;
  }

  /** The SDK client for the resolved address and token. */
  client(): Promise<CofferClient> {
    this.#client ??= (async () => {
      const { createClient } = await import('@coffer/client');
      const { address, token } = this.credentials();
      const timeoutMs = this.requestTimeoutMs;
      return createClient({
        baseUrl: address,
        ...(token === undefined ? {} : { token }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        clientName: 'cli',
      });
    })();
    return this.#client;
  }

  /** A client for another address or token (login, logout), not cached. */
  async clientFor(address: string, token?: string): Promise<CofferClient> {
    const { createClient } = await import('@coffer/client');
    return createClient({ baseUrl: address, ...(token === undefined ? {} : { token }), clientName: 'cli' });
  }

  /** Writes text and a line break to standard output. */
  out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A note for people on standard error (never in the way of what a script reads). */
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }

  /** With `--json` the value as JSON, otherwise what `human` makes of it. */
  emit<T>(value: T, human: (value: T) => string): void {
    if (this.json) this.out(JSON.stringify(value, null, 2));
    else {
      const text = human(value);
      if (text !== '') this.out(text);
    }
  }

  /** A list: a JSON array, or a table (`empty` when there are no rows). */
  emitList<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string): void {
    if (this.json) this.out(JSON.stringify(rows, null, 2));
    else this.out(rows.length === 0 ? empty : formatTable(rows, columns));
  }

  /** One object: JSON, or aligned `label: value` lines. */
  emitFields<T>(value: T, fields: (value: T) => [string, unknown][]): void {
    this.emit(value, (v) => formatFields(fields(v)));
  }

  /** A progress bar or spinner, drawn only on a terminal, never with `--json`, never in CI. */
  progress(label: string, total?: number): Progress {
    return startProgress(label, {
      ...(total === undefined ? {} : { total }),
      enabled: progressAllowed(this.json, this.env),
    });
  }
}
