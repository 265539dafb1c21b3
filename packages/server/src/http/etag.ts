import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';

/** The ETag of a secret at a version: `"v3"`. */
export function versionTag(version: number): string {
  return `"v${version}"`;
}

/** Sets the ETag of the secret version a response describes. */
export function setVersionTag(reply: FastifyReply, version: number): void {
  reply.header('etag', versionTag(version));
}

const tagPattern = /^\s*(?:W\/)?"v([1-9][0-9]{0,8})"\s*$/;

/**
 * The version a conditional write expects, from `If-Match` (`"v3"`, weak tags accepted).
 * Absent or `*` means unconditional. A malformed tag is a 400: the client meant a condition
 * that we cannot read, and silently dropping it would lose the check-and-set.
 *
 * @example
 * await coffer.secrets.update(actor, ref, { values, expectedVersion: expectedVersionOf(request) });
 */
export function expectedVersionOf(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  if (header.trim() === '*') return undefined;
  const match = tagPattern.exec(header);
  if (match === null) {
    throw new HttpProblem(400, 'validation', 'If-Match must be an ETag from a read, like "v3"', [
      { path: 'headers.if-match', message: 'must be an ETag like "v3"' },
    ]);
  }
  return Number(match[1]);
}

/** Whether the request made its write conditional (decides 412 versus 409). */
export function isConditional(request: FastifyRequest): boolean {
  const header = request.headers['if-match'];
  return header !== undefined && header.trim() !== '*';
}
