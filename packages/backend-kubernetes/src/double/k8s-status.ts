/**
 * Kubernetes `Status` objects, the body of every failed API call (and of a successful delete),
 * shaped as `k8s.io/apimachinery/pkg/api/errors` builds them, with the same messages.
 */

/** One field problem of an `Invalid` (422) answer. */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A failed call: its HTTP code, the `reason` clients branch on, the message and details. */
export class KubeStatusError extends Error {
  override readonly name = 'KubeStatusError';
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    /** Extra response headers (Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

/** `secrets "x" not found` (404 NotFound). */
export function notFound(resource: string, name: string): KubeStatusError {
  return new KubeStatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
}

/** `secrets "x" already exists` (409 AlreadyExists). */
export function alreadyExists(resource: string, name: string): KubeStatusError {
  return new KubeStatusError(409, 'AlreadyExists', `${resource} "${name}" already exists`, {
    name,
    kind: resource,
  });
}

/** The optimistic-concurrency refusal (409 Conflict) of an update with a stale resourceVersion. */
export function conflict(resource: string, name: string, why: string): KubeStatusError {
  return new KubeStatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource} "${name}": ${why}`,
    { name, kind: resource },
  );
}

export const staleObject =
  'the object has been modified; please apply your changes to the latest version and try again';

/** `Secret "x" is invalid: <causes>` (422 Invalid). */
export function invalid(kind: string, name: string, causes: StatusCause[]): KubeStatusError {
  const list = causes.map((c) => (c.field === '' ? c.message : `${c.field}: ${c.message}`));
  const message =
    list.length === 1
      ? `${kind} "${name}" is invalid: ${list[0]}`
      : `${kind} "${name}" is invalid: [${list.join(', ')}]`;
  return new KubeStatusError(422, 'Invalid', message, { name, group: '', kind, causes });
}

export function badRequest(message: string): KubeStatusError {
  return new KubeStatusError(400, 'BadRequest', message);
}

export function unauthorized(): KubeStatusError {
  return new KubeStatusError(401, 'Unauthorized', 'Unauthorized');
}

/** The RBAC authorizer's refusal (403 Forbidden), with the message the API server writes. */
export function forbidden(
  user: string,
  verb: string,
  resource: string,
  namespace: string | undefined,
  name: string | undefined,
): KubeStatusError {
  const where = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  const subject = name === undefined || name === '' ? `${resource}` : `${resource} "${name}"`;
  return new KubeStatusError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "" ${where}`,
    { ...(name === undefined || name === '' ? {} : { name }), kind: resource },
  );
}

/** A non-resource path refused to a user (403), e.g. discovery for the anonymous user. */
export function forbiddenPath(user: string, verb: string, path: string): KubeStatusError {
  return new KubeStatusError(403, 'Forbidden', `forbidden: User "${user}" cannot ${verb} path "${path}"`, {});
}

/** API Priority and Fairness rejecting a request (429 TooManyRequests with Retry-After). */
export function tooManyRequests(retryAfterSeconds: number): KubeStatusError {
  return new KubeStatusError(
    429,
    'TooManyRequests',
    'Too many requests, please try again later.',
    { retryAfterSeconds },
    { 'retry-after': String(retryAfterSeconds) },
  );
}

export function internalError(
  message = 'an error on the server ("") has prevented the request from succeeding',
): KubeStatusError {
  return new KubeStatusError(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ reason: '', message, field: '' }],
  });
}

export function serviceUnavailable(): KubeStatusError {
  return new KubeStatusError(
    503,
    'ServiceUnavailable',
    'The server is currently unable to handle the request',
  );
}

/** The request body limit of the API server (3 MiB): 413 RequestEntityTooLarge. */
export function requestEntityTooLarge(limit: number): KubeStatusError {
  return new KubeStatusError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

export function methodNotAllowed(): KubeStatusError {
  return new KubeStatusError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
  );
}

export function unsupportedMediaType(): KubeStatusError {
  return new KubeStatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
  );
}

/** A continue token whose snapshot was compacted away (410 Gone, reason Expired). */
export function expired(): KubeStatusError {
  return new KubeStatusError(
    410,
    'Expired',
    'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
  );
}

/** The body of a successful delete of an object without finalizers. */
export function deleted(resource: string, name: string, uid: string): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, kind: resource, uid },
  };
}
