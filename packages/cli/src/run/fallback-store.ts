import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../config/config-store.js';
import { CliError } from '../errors/cli-error.js';
import { describeDuration } from './fallback-settings.js';

/** The first line of every snapshot file: the format and its version. */
const magic = 'coffer-fallback 1';
/** The name of the random per-machine key in the config directory. */
export const machineKeyFile = 'fallback-key';

/** What a snapshot holds once opened: the variables `coffer run` set, and when. */
export interface Snapshot {
  variables: Record<string, string>;
  writtenAt: Date;
  expiresAt: Date;
}

/** The snapshot file's second line: bound to the ciphertext as associated data. */
interface Header {
  address: string;
  login: string;
  spec: string;
  writtenAt: string;
  expiresAt: string;
  salt: string;
  nonce: string;
}

/** Where a snapshot store lives and whose it is. */
export interface FallbackStoreOptions {
  /** The normalized server address. */
  address: string;
  /** The login's API token: the key is derived from it, so only this login opens its snapshots. */
  token: string;
  /** The CLI's config directory, which holds the per-machine key. */
  configDir: string;
  /** For XDG_CACHE_HOME. */
  env: NodeJS.ProcessEnv;
}

/**
 * A short id of a login (a server address and its token) that says nothing about the token:
 * the name of the directory holding that login's snapshots.
 */
export function loginIdOf(address: string, token: string): string {
  return createHmac('sha256', token).update(`coffer-fallback-login\0${address}`).digest('hex').slice(0, 32);
}

/** The directory of every snapshot: `$XDG_CACHE_HOME/coffer/fallback`. */
export function fallbackDir(env: NodeJS.ProcessEnv): string {
  return join(cacheDir(env), 'fallback');
}

/**
 * Removes every snapshot of a login (`coffer logout`, and `coffer login` replacing a token).
 * Answers whether there were any.
 */
export function removeLoginSnapshots(env: NodeJS.ProcessEnv, address: string, token: string): boolean {
  const dir = join(fallbackDir(env), loginIdOf(address, token));
  let existed: boolean;
  try {
    existed = statSync(dir).isDirectory();
  } catch {
    existed = false;
  }
  rmSync(dir, { recursive: true, force: true });
  return existed;
}

let machineIdCache: string | undefined;

/** The OS's id of this machine (systemd's, else D-Bus's), or '' where there is none. */
function systemMachineId(): string {
  if (machineIdCache !== undefined) return machineIdCache;
  machineIdCache = '';
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      machineIdCache = readFileSync(path, 'utf8').trim();
      if (machineIdCache !== '') break;
    } catch {
      // Not there (macOS, some containers): the per-machine key alone binds the snapshot.
    }
  }
  return machineIdCache;
}

function mkdirPrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // An existing directory keeps its mode through mkdir: tighten it (it is ours).
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/**
 * The random key of this machine's CLI, made on first use (mode 0600). Together with the OS's
 * machine id it binds snapshots to this machine: a snapshot copied elsewhere, with or without
 * the config file, does not open there.
 */
function machineKey(configDir: string, create: boolean): Buffer | undefined {
  const path = join(configDir, machineKeyFile);
  const read = () => {
    const key = readFileSync(path);
    if (key.length !== 32)
      throw new CliError('fallback_invalid', `${path} is not a key Coffer made; delete it`);
    return key;
  };
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (!create) return undefined;
  }
  mkdirPrivate(configDir);
  // Written whole to a temporary file, then linked into place: link never replaces a key
  // another `coffer run` made at the same moment, and nobody reads half a key.
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, randomBytes(32), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  } finally {
    rmSync(temp, { force: true });
  }
  return read();
}

const invalid = (why: string) =>
  new CliError(
    'fallback_invalid',
    `the offline snapshot of this command cannot be used: ${why}; it is replaced the next time the server answers`,
  );

function parseHeader(line: string): Header {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw invalid('it is damaged');
  }
  const h = value as Partial<Record<keyof Header, unknown>>;
  const keys: (keyof Header)[] = ['address', 'login', 'spec', 'writtenAt', 'expiresAt', 'salt', 'nonce'];
  if (typeof value !== 'object' || value === null || keys.some((k) => typeof h[k] !== 'string')) {
    throw invalid('it is damaged');
  }
  return value as Header;
}

/**
 * The offline snapshots of one login on this machine, one file per `coffer run` specification
 * in `$XDG_CACHE_HOME/coffer/fallback/<login id>/`. Each is sealed with AES-256-GCM under a key
 * derived (HKDF-SHA256, a fresh salt per file) from the login's token, a random per-machine key
 * and the OS's machine id; the server address, login, specification and expiry are bound in as
 * associated data. A file that was changed, copied from another machine or written under
 * another login does not open (`fallback_invalid`); one past its time to live is refused
 * (`fallback_expired`) and deleted. Nothing is ever used in part.
 *
 * @example
 * const store = new FallbackStore({ address, token, configDir: ctx.store.dir, env: process.env });
 * const id = store.specId({ env: [['DB_PASSWORD', '{{ db.password }}']] });
 * store.write(id, { DB_PASSWORD: 'resolved value' }, 7 * 86_400_000);
 * store.read(id, 7 * 86_400_000)?.variables;
 */
export class FallbackStore {
  /** This login's snapshot directory. */
  readonly dir: string;
  readonly #cache: string;
  readonly #address: string;
  readonly #token: string;
  readonly #login: string;
  readonly #configDir: string;

  constructor(options: FallbackStoreOptions) {
    this.#address = options.address;
    this.#token = options.token;
    this.#login = loginIdOf(options.address, options.token);
    this.#configDir = options.configDir;
    this.#cache = cacheDir(options.env);
    this.dir = join(fallbackDir(options.env), this.#login);
  }

  /** The id of a run specification (any JSON value): its file name, revealing nothing of it. */
  specId(spec: unknown): string {
    return createHmac('sha256', this.#token)
      .update(`coffer-fallback-spec\0${this.#address}\0${JSON.stringify(spec)}`)
      .digest('hex')
      .slice(0, 40);
  }

  pathOf(specId: string): string {
    return join(this.dir, `${specId}.snapshot`);
  }

  #key(salt: Buffer, machine: Buffer): Buffer {
    const token = Buffer.from(this.#token, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(token.length);
    const ikm = Buffer.concat([length, token, machine]);
    return Buffer.from(hkdfSync('sha256', ikm, salt, `coffer-run-fallback/1\0${systemMachineId()}`, 32));
  }

  /**
   * Seals `variables` for `ttlMs` and writes them atomically (a temporary file, mode 0600, then
   * a rename), replacing the specification's previous snapshot.
   */
  write(specId: string, variables: Record<string, string>, ttlMs: number, now = Date.now()): void {
    const path = this.pathOf(specId);
    const machine = machineKey(this.#configDir, true)!;
    const salt = randomBytes(16);
    const nonce = randomBytes(12);
    const header: Header = {
      address: this.#address,
      login: this.#login,
      spec: specId,
      writtenAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlMs).toISOString(),
      salt: salt.toString('base64'),
      nonce: nonce.toString('base64'),
    };
    const associated = `${magic}\n${JSON.stringify(header)}\n`;
    const cipher = createCipheriv('aes-256-gcm', this.#key(salt, machine), nonce);
    cipher.setAAD(Buffer.from(associated, 'utf8'));
    const sealed = Buffer.concat([
      cipher.update(JSON.stringify({ variables }), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    for (const dir of [this.#cache, join(this.#cache, 'fallback'), this.dir]) mkdirPrivate(dir);
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(temp, `${associated}${sealed.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      renameSync(temp, path);
    } catch (err) {
      rmSync(temp, { force: true });
      throw new CliError('file', `cannot write ${path}: ${(err as Error).message}`);
    }
  }

  /**
   * Opens the specification's snapshot: undefined when there is none; `fallback_invalid` when it
   * does not open; `fallback_expired` when it is past its time to live (then it is deleted) or
   * older than `maxAgeMs` (this run's time to live; it stays for runs that accept it).
   */
  read(specId: string, maxAgeMs: number, now = Date.now()): Snapshot | undefined {
    const path = this.pathOf(specId);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CliError('file', `cannot read ${path}: ${(err as Error).message}`);
    }
    const first = text.indexOf('\n');
    const second = first === -1 ? -1 : text.indexOf('\n', first + 1);
    if (second === -1 || text.slice(0, first) !== magic) throw invalid('it is not a Coffer snapshot');
    const header = parseHeader(text.slice(first + 1, second));
    if (header.address !== this.#address || header.login !== this.#login || header.spec !== specId) {
      throw invalid('it was written for another server, login or command');
    }
    const machine = machineKey(this.#configDir, false);
    if (machine === undefined) throw invalid('it was made on another machine');
    const sealed = Buffer.from(text.slice(second + 1).trim(), 'base64');
    const nonce = Buffer.from(header.nonce, 'base64');
    if (sealed.length < 16 || nonce.length !== 12) throw invalid('it is damaged');
    let plain: string;
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.#key(Buffer.from(header.salt, 'base64'), machine),
        nonce,
      );
      decipher.setAAD(Buffer.from(text.slice(0, second + 1), 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      plain = Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - 16)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw invalid('it was changed, or made on another machine or under another login');
    }
    const { variables } = JSON.parse(plain) as { variables: Record<string, string> };
    const writtenAt = new Date(header.writtenAt);
    const expiresAt = new Date(header.expiresAt);
    const age = now - writtenAt.getTime();
    const over = now - expiresAt.getTime();
    if (!(over < 0)) {
      // It can never be used again.
      rmSync(path, { force: true });
      throw new CliError(
        'fallback_expired',
        `the offline snapshot of this command has expired (its time to live ended ${describeDuration(over)} ago) and was deleted; the next run that reaches the server writes a new one`,
      );
    }
    if (!(age <= maxAgeMs)) {
      throw new CliError(
        'fallback_expired',
        `the offline snapshot of this command is ${describeDuration(age)} old, older than the time to live asked for`,
      );
    }
    return { variables, writtenAt, expiresAt };
  }

  /** Deletes the specification's snapshot, if any. */
  remove(specId: string): void {
    rmSync(this.pathOf(specId), { force: true });
  }

  /** Deletes every snapshot of this login. */
  removeAll(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
