import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsError } from './aws-error.js';

/** A key pair the double accepts, and what it may do. */
export interface DoubleCredential {
  accessKeyId: string;
  secretAccessKey: string;
  /** Required in `X-Amz-Security-Token` when set (temporary credentials). */
  sessionToken?: string;
  /** Operations this key may call; all when absent (an IAM policy in miniature). */
  allow?: ReadonlySet<string>;
}

export interface SignedRequest {
  method: string;
  /** The path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How far a request's X-Amz-Date may be from the double's clock, as AWS allows. */
const maxSkewMs = 15 * 60 * 1000;

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

/** RFC 3986 encoding as SigV4 wants it. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const at = pair.indexOf('=');
      const k = decodeURIComponent((at === -1 ? pair : pair.slice(0, at)).replace(/\+/g, ' '));
      const v = at === -1 ? '' : decodeURIComponent(pair.slice(at + 1).replace(/\+/g, ' '));
      return [uriEncode(k), uriEncode(v)] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function canonicalPath(path: string): string {
  const segments = path.split('/').map((s) => uriEncode(uriEncode(decodeURIComponent(s))));
  const joined = segments.join('/');
  return joined === '' ? '/' : joined;
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/**
 * Checks a request's AWS Signature Version 4 `Authorization` header the way AWS does, and
 * returns the key that signed it. Failures are the errors AWS answers with: no header
 * (MissingAuthenticationTokenException), an unknown key (UnrecognizedClientException), a scope
 * for another region or service, a stale date or a wrong signature (InvalidSignatureException).
 */
export function verifySigV4(
  request: SignedRequest,
  options: {
    region: string;
    service: string;
    credentials: ReadonlyMap<string, DoubleCredential>;
    now?: number;
  },
): DoubleCredential {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined) {
    throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization.trim(),
    );
  if (match === null) {
    throw new AwsError(
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature parameters.',
    );
  }
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] =
    match as unknown as string[];
  const credential = options.credentials.get(accessKeyId!);
  if (credential === undefined) {
    throw new AwsError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  const token = headerValue(request.headers, 'x-amz-security-token');
  if ((credential.sessionToken ?? undefined) !== token) {
    throw new AwsError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  if (service !== options.service) {
    throw new AwsError(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${options.service}'.`,
    );
  }
  if (region !== options.region) {
    throw new AwsError('InvalidSignatureException', 'Credential should be scoped to a valid region.');
  }
  const amzDate = headerValue(request.headers, 'x-amz-date');
  const signedHeaders = signedHeaderList!.split(';');
  if (amzDate === undefined || !signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    throw new AwsError('IncompleteSignatureException', 'Signed headers must include host and x-amz-date.');
  }
  const at = parseAmzDate(amzDate);
  if (at === undefined || amzDate.slice(0, 8) !== scopeDate) {
    throw new AwsError(
      'IncompleteSignatureException',
      'Date in Credential scope does not match the request date.',
    );
  }
  const now = options.now ?? Date.now();
  if (Math.abs(now - at) > maxSkewMs) {
    throw new AwsError(
      'InvalidSignatureException',
      'Signature expired: the request time is too far from the server time.',
    );
  }
  const queryAt = request.url.indexOf('?');
  const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : request.url.slice(queryAt + 1);
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${(headerValue(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const payloadHash = headerValue(request.headers, 'x-amz-content-sha256') ?? sha256Hex(request.body);
  const canonicalRequest = [
    request.method,
    canonicalPath(path),
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credential.secretAccessKey}`, scopeDate!), region!), service!),
    'aws4_request',
  );
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex'), 'utf8');
  const given = Buffer.from(signature!, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new AwsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return credential;
}
