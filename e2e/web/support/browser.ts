// biome-ignore-all lint/performance/useDomNodeTextContent: innerText is the rendered text a person reads (Playwright's locator.innerText(), or labels in the page)
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; never a downloaded browser. */
export const chromiumPath = '/usr/bin/chromium';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const webDir = join(repoRoot, 'packages', 'web');

/**
 * Why the browser tests cannot run here, or undefined when they can. Outside CI a missing
 * Chromium skips them (with this reason printed); in CI, which installs it, it is a failure.
 */
export function browserUnavailable(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  const reason = `${chromiumPath} is missing (install Debian's chromium package; .ci/run does)`;
  if (process.env.CI) throw new Error(`the browser tests must run in CI, but ${reason}`);
  return reason;
}

/** The tests drive the built UI; a stale build would test old code, so say so plainly. */
export function assertWebBuilt(): void {
  const index = join(webDir, 'dist', 'index.html');
  if (!existsSync(index)) throw new Error('packages/web is not built; run `npm run build -w @coffer/web`');
  const built = statSync(index).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  if (newest(join(webDir, 'src')) > built) {
    throw new Error('packages/web/dist is older than its sources; run `npm run build -w @coffer/web`');
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Everything a browser context asked for and every CSP complaint its pages logged. */
export interface Recorder {
  requests: string[];
  cspViolations: string[];
  pageErrors: string[];
}

/** A browser context that records every request and console CSP violation of its pages. */
export async function recordedContext(
  browser: Browser,
  recorder: Recorder,
  options: { width?: number; height?: number; origin?: string } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    deviceScaleFactor: 1,
    reducedMotion: 'reduce',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  if (options.origin !== undefined) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: options.origin });
  }
  // Fail fast: a missing element is a failure, not something to wait half a minute for.
  context.setDefaultTimeout(10_000);
  context.on('request', (request) => recorder.requests.push(request.url()));
  context.on('page', (page) => watchPage(page, recorder));
  return context;
}

function watchPage(page: Page, recorder: Recorder): void {
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) recorder.cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => recorder.pageErrors.push(error.message));
}

/** Where screenshots go: docs/screenshots for `npm run screenshots`, a temporary directory otherwise. */
export function screenshotDir(): string {
  const dir =
    process.env.COFFER_SCREENSHOTS === '1'
      ? join(repoRoot, 'docs', 'screenshots')
      : join(tmpdir(), 'coffer-web-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Presses Tab until the focused element is the one named `name` (its label, aria-label or text),
 * as a keyboard user would; fails after `limit` presses.
 */
export async function tabTo(page: Page, name: string | RegExp, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (el === null) return '';
      const labelled = (el as HTMLInputElement).labels?.[0]?.innerText;
      return (el.getAttribute('aria-label') ?? labelled ?? el.innerText ?? '').replace(/\s*\*$/, '').trim();
    });
    if (typeof name === 'string' ? focused === name : name.test(focused)) return;
  }
  throw new Error(`pressed Tab ${limit} times without reaching ${String(name)}`);
}
