import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors/cli-error.js';

/** What `coffer login` stores for one server. The token is an API token, never a password. */
export interface StoredLogin {
  token: string;
  /** The token's id, to revoke it on `coffer logout`. */
  tokenId?: string;
  username?: string;
  /** When the login happened (ISO-8601). */
  at?: string;
}

/** The CLI's config file: logins by server address, and the address used when none is given. */
export interface CliConfig {
  current?: string;
  servers: Record<string, StoredLogin>;
}

/** `$XDG_CONFIG_HOME/coffer`, or `~/.config/coffer`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.config'), 'coffer');
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'config.json');
}

/** `$XDG_CACHE_HOME/coffer`, or `~/.cache/coffer`: what can be thrown away (offline snapshots). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'coffer');
}

/**
 * Reads and writes the config file: the directory is created with mode 0700 and the file is
 * written with mode 0600 through a temporary file and a rename, so a crash never leaves half
 * a file and the token is never readable by others, even for a moment.
 *
 * @example
 * const store = new ConfigStore();
 * store.update((c) => ({ ...c, current: 'http://127.0.0.1:8470' }));
 */
export class ConfigStore {
  readonly dir: string;
  readonly path: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.dir = configDir(env);
    this.path = join(this.dir, 'config.json');
  }

  read(): CliConfig {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
      throw new CliError('file', `cannot read ${this.path}: ${(err as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as Partial<CliConfig>;
      return {
        ...(typeof parsed.current === 'string' ? { current: parsed.current } : {}),
        servers: typeof parsed.servers === 'object' && parsed.servers !== null ? parsed.servers : {},
      };
    } catch {
      throw new CliError('file', `${this.path} is not valid JSON; fix or delete it`);
    }
  }

  write(config: CliConfig): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // An existing directory keeps its mode through mkdir: tighten it (it is ours).
    if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
    const temp = `${this.path}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      renameSync(temp, this.path);
    } catch (err) {
      rmSync(temp, { force: true });
      throw new CliError('file', `cannot write ${this.path}: ${(err as Error).message}`);
    }
  }

  update(change: (config: CliConfig) => CliConfig): CliConfig {
    const next = change(this.read());
    this.write(next);
    return next;
  }
}
