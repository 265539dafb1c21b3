import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';

/** The ETag of a secret's values at a version: `"v3"`. */
export function versionTag(version: number): string {
  return `"v${version}"`;
}

/**
 * Whether `If-None-Match` names this version's tag (a list, weak tags and `*` accepted), so a
 * values read can answer `304 Not Modified`.
 */
export function versionUnchanged(request: FastifyRequest, version: number): boolean {
  const header = request.headers['if-none-match'];
  if (header === undefined || header === '') return false;
  const wanted = versionTag(version);
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === wanted);
}

/** Sets the ETag of the secret version a values response describes. */
export function setVersionTag(reply: FastifyReply, version: number): void {
  reply.header('etag', versionTag(version));
}

/**
 * The ETag of a secret's metadata: its values version and its revision, `"v3-r7"`. The
 * revision moves with every change (values, description, labels, name), so `If-Match` with
 * this tag makes a metadata write fail when anything changed since the read.
 */
export function setSecretTag(
  reply: FastifyReply,
  secret: { currentVersion: number; revision: number },
): void {
  reply.header('etag', `"v${secret.currentVersion}-r${secret.revision}"`);
}

const tagPattern = /^\s*(?:W\/)?"v([1-9][0-9]{0,8})(?:-r([1-9][0-9]{0,8}))?"\s*$/;

/** What `If-Match` asks a write to check: the version, and the revision when the tag has one. */
export interface WriteCondition {
  expectedVersion?: number;
  expectedRevision?: number;
}

/**
 * The condition of a write, from `If-Match` (`"v3"` or `"v3-r7"`, weak tags accepted). Absent
 * or `*` means unconditional. A malformed tag is a 400: the client meant a condition that we
 * cannot read, and silently dropping it would lose the check-and-set.
 *
 * @example
 * await coffer.secrets.updateMetadata(actor, ref, { ...body, ...conditionOf(request) });
 */
export function conditionOf(request: FastifyRequest): WriteCondition {
  const header = request.headers['if-match'];
  if (header === undefined) return {};
  if (header.trim() === '*') return {};
  const match = tagPattern.exec(header);
  if (match === null) {
    throw new HttpProblem(400, 'validation', 'If-Match must be an ETag from a read, like "v3" or "v3-r7"', [
      { path: 'headers.if-match', message: 'must be an ETag like "v3" or "v3-r7"' },
    ]);
  }
  return {
    expectedVersion: Number(match[1]),
    ...(match[2] === undefined ? {} : { expectedRevision: Number(match[2]) }),
  };
}

/**
 * The version a values write expects (the version part of `If-Match`; values writes are
 * checked against the values version, which is what a values read's ETag carries).
 */
export function expectedVersionOf(request: FastifyRequest): number | undefined {
  return conditionOf(request).expectedVersion;
}

/** Whether the request made its write conditional (decides 412 versus 409). */
export function isConditional(request: FastifyRequest): boolean {
  const header = request.headers['if-match'];
  return header !== undefined && header.trim() !== '*';
}
