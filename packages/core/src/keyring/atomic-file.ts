import { randomBytes } from 'node:crypto';
import { link, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CofferError } from '../errors/coffer-error.js';

export interface AtomicWriteOptions {
  /** File mode of the written file. */
  mode: number;
  /**
   * Only create the file: when it already exists, leave it alone and return false. Two
   * processes creating it at once then agree on one content instead of the last one winning.
   */
  exclusive?: boolean;
}

/**
 * Writes `data` to `path` so that a reader (or a crash) sees the old content or the new content,
 * never a mix: write a temporary file beside it, fsync it, rename (or link, when exclusive) it
 * into place, then fsync the directory so the rename itself survives a power loss.
 *
 * @example
 * await writeFileAtomic('/var/lib/coffer/keyring.json', json, { mode: 0o600 });
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: AtomicWriteOptions,
): Promise<boolean> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', options.mode);
  try {
    // The umask can only narrow the mode given to open(); chmod makes it exact either way.
    await handle.chmod(options.mode);
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    if (options.exclusive === true) {
      try {
        await link(temp, path);
      } catch (err) {
        const code = errorCode(err);
        if (code === 'EEXIST') return false;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
        // No hard links on this filesystem: check, then rename. Exclusive except for a tiny
        // window, which only matters if two processes create the file in the same instant.
        if (await exists(path)) return false;
        await rename(temp, path);
      }
    } else {
      await rename(temp, path);
    }
  } finally {
    // After a link the temporary name is a second name of the same file; after a rename it is gone.
    await rm(temp, { force: true });
  }
  await syncDirectory(dir);
  return true;
}

/** Makes a directory's entries (a rename, a new file) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some platforms (Windows) and filesystems cannot open or fsync a directory; the rename
    // is still atomic there, only its durability across a power loss is up to the OS.
    const code = errorCode(err);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}

export interface FileLockOptions {
  /** How long to wait for another holder before giving up. */
  timeoutMs?: number;
  /** A lock older than this is taken to be left behind by a crashed process and removed. */
  staleMs?: number;
}

/**
 * Runs `fn` while holding a lock file, so processes sharing a file (replicas sharing a key file)
 * take turns at read-modify-write instead of losing each other's changes.
 *
 * @example
 * await withFileLock(`${path}.lock`, async () => { const keys = await read(); await write(keys); });
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`, 'utf8');
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
    const age = await lockAge(lockPath);
    if (age !== undefined && age > staleMs) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() - started > timeoutMs) {
      throw new CofferError(
        'conflict',
        `${lockPath} is held by another process; retry, or remove it if no Coffer process is changing the key file`,
        { details: { lockFile: lockPath } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 40));
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

async function lockAge(lockPath: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(lockPath)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The `code` of a Node system error (`ENOENT`, `EACCES`...), if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
