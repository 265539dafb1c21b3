import { createServer, type ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import { describe, expect, it } from 'vitest';
import { securityHeaders, setHeaders } from './security-headers.js';

/** The headers of an answer from a real HTTP server that writes them with `write`. */
async function answerHeaders(write: (res: ServerResponse) => void): Promise<Record<string, string>> {
  const server = createServer((_req, res) => {
    res.setHeader('x-powered-by', 'something');
    write(res);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/`);
    await response.text();
    const headers = Object.fromEntries(response.headers);
    for (const name of ['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']) {
      delete headers[name];
    }
    return headers;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('securityHeaders', () => {
  const cases: Record<string, HelmetOptions> = {
    defaults: {},
    'the server’s own': {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'] },
      },
      frameguard: { action: 'deny' },
      strictTransportSecurity: { maxAge: 15552000, includeSubDomains: false },
    },
    'without HSTS': { strictTransportSecurity: false },
  };
  for (const [name, options] of Object.entries(cases)) {
    it(`writes exactly what helmet's middleware writes (${name})`, async () => {
      const recorded = securityHeaders(options);
      const middleware = helmet(options);
      const expected = await answerHeaders((res) => middleware({} as never, res, () => {}));
      const actual = await answerHeaders((res) => setHeaders(res, recorded));
      expect(actual).toEqual(expected);
      expect(actual['x-powered-by']).toBeUndefined();
      expect(Object.keys(actual).length).toBeGreaterThan(8);
    });
  }
});
