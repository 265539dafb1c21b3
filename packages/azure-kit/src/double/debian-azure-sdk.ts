import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

/** Debian's Python, whose python3-azure package is the independent client the doubles are checked with. */
export const debianPython = '/usr/bin/python3';

export interface DebianAzureSdkCheck {
  /** The Key Vault module to import besides azure.identity, e.g. `azure.keyvault.secrets`. */
  module: string;
  /** How the skip reason names it, when not `module` (`azure.keyvault.keys` for `….keys.crypto`). */
  named?: string;
  /** What is skipped without it, for the printed reason: `the Python Azure SDK checks`. */
  checks: string;
}

/**
 * Whether {@link debianPython} can import the Azure SDK (`module` and azure.identity). Without
 * it the checks are skipped with a printed reason, or, under CI=true, this throws: CI must run
 * the independent client.
 *
 * @example
 * const present = await debianAzureSdkPresent({ module: 'azure.keyvault.secrets', checks: 'the Python Azure SDK checks' });
 * describe.skipIf(!present)('the double through the Python SDK', () => { ... });
 */
export async function debianAzureSdkPresent(check: DebianAzureSdkCheck): Promise<boolean> {
  const present = await canImport(`${check.module}, azure.identity`);
  if (!present) {
    const why = `${debianPython} cannot import ${check.named ?? check.module} and azure.identity (apt install python3-azure)`;
    if (process.env.CI === 'true') throw new Error(`CI needs the independent client: ${why}`);
    console.log(`skipping ${check.checks}: ${why}`);
  }
  return present;
}

async function canImport(modules: string): Promise<boolean> {
  if (!existsSync(debianPython)) return false;
  try {
    await promisify(execFile)(debianPython, ['-c', `import ${modules}`], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** How a run of a Python client script ended: its exit code and everything it printed. */
export interface DebianScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` with {@link debianPython}, `job` as JSON on its stdin, a bare environment (no
 * home, only /usr/bin and /bin) and `caFile` as the CA bundle the SDK trusts (the double's).
 */
export async function runDebianAzureScript(
  script: string,
  job: unknown,
  options: { caFile: string; timeoutMs: number },
): Promise<DebianScriptRun> {
  const child = execFile(debianPython, [script], {
    env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', REQUESTS_CA_BUNDLE: options.caFile },
    timeout: options.timeoutMs,
  });
  child.stdin?.end(JSON.stringify(job));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}
