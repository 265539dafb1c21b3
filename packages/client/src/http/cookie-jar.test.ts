import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar, documentCookie } from './cookie-jar.js';

function headers(...cookies: string[]): Headers {
  const h = new Headers();
  for (const c of cookies) h.append('set-cookie', c);
  return h;
}

describe('CookieJar', () => {
  it('keeps cookies, and drops expired or emptied ones', () => {
    const jar = new CookieJar();
    jar.store(headers('coffer_session=abc; Path=/; HttpOnly; SameSite=Strict', 'coffer_csrf=xyz; Path=/'));
    expect(jar.header()).toBe('coffer_session=abc; coffer_csrf=xyz');
    expect(jar.get('coffer_csrf')).toBe('xyz');
    jar.store(headers('coffer_session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT'));
    jar.store(headers('coffer_csrf=gone; Max-Age=0'));
    expect(jar.size).toBe(0);
    expect(jar.header()).toBeUndefined();
  });
});

describe('documentCookie', () => {
  const g = globalThis as { document?: unknown };
  afterEach(() => {
    delete g.document;
  });

  it('reads a cookie of the page, when there is a page', () => {
    expect(documentCookie('coffer_csrf')).toBeUndefined();
    g.document = { cookie: 'a=1; coffer_csrf=to%20ken; b=2' };
    expect(documentCookie('coffer_csrf')).toBe('to ken');
    expect(documentCookie('missing')).toBeUndefined();
  });
});
