/**
 * The OpenAPI v3 document of `/api/v1` as far as the double serves it (Secrets, the meta types
 * they use), at `/openapi/v3/api/v1`, with the index at `/openapi/v3`. kubectl reads it to learn
 * that the server validates fields itself (`fieldValidation` on PATCH, so `kubectl apply` and
 * `kubectl create -f` send `fieldValidation=Strict` instead of validating on the client) and to
 * compute `kubectl apply`'s strategic merge patches from the Secret schema. Field names, types
 * and patch extensions follow the API server's own document; descriptions are left out.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const gvk = (group: string, version: string, kind: string) => [{ group, version, kind }];
const stringMap = { type: 'object', additionalProperties: { type: 'string', default: '' } };
const byteMap = { type: 'object', additionalProperties: { type: 'string', format: 'byte' } };

const schemas: Record<string, unknown> = {
  'io.k8s.api.core.v1.Secret': {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      data: byteMap,
      immutable: { type: 'boolean' },
      kind: { type: 'string' },
      metadata: { default: {}, allOf: [ref(`${meta}.ObjectMeta`)] },
      stringData: stringMap,
      type: { type: 'string' },
    },
    'x-kubernetes-group-version-kind': gvk('', 'v1', 'Secret'),
  },
  'io.k8s.api.core.v1.SecretList': {
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      items: { type: 'array', items: { default: {}, allOf: [ref('io.k8s.api.core.v1.Secret')] } },
      kind: { type: 'string' },
      metadata: { default: {}, allOf: [ref(`${meta}.ListMeta`)] },
    },
    'x-kubernetes-group-version-kind': gvk('', 'v1', 'SecretList'),
  },
  [`${meta}.ObjectMeta`]: {
    type: 'object',
    properties: {
      annotations: stringMap,
      creationTimestamp: ref(`${meta}.Time`),
      deletionGracePeriodSeconds: { type: 'integer', format: 'int64' },
      deletionTimestamp: ref(`${meta}.Time`),
      finalizers: {
        type: 'array',
        items: { type: 'string', default: '' },
        'x-kubernetes-list-type': 'set',
        'x-kubernetes-patch-strategy': 'merge',
      },
      generateName: { type: 'string' },
      generation: { type: 'integer', format: 'int64' },
      labels: stringMap,
      name: { type: 'string' },
      namespace: { type: 'string' },
      ownerReferences: {
        type: 'array',
        items: { default: {}, allOf: [ref(`${meta}.OwnerReference`)] },
        'x-kubernetes-list-map-keys': ['uid'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
      },
      resourceVersion: { type: 'string' },
      selfLink: { type: 'string' },
      uid: { type: 'string' },
    },
  },
  [`${meta}.OwnerReference`]: {
    type: 'object',
    required: ['apiVersion', 'kind', 'name', 'uid'],
    properties: {
      apiVersion: { type: 'string', default: '' },
      blockOwnerDeletion: { type: 'boolean' },
      controller: { type: 'boolean' },
      kind: { type: 'string', default: '' },
      name: { type: 'string', default: '' },
      uid: { type: 'string', default: '' },
    },
    'x-kubernetes-map-type': 'atomic',
  },
  [`${meta}.ListMeta`]: {
    type: 'object',
    properties: {
      continue: { type: 'string' },
      remainingItemCount: { type: 'integer', format: 'int64' },
      resourceVersion: { type: 'string' },
      selfLink: { type: 'string' },
    },
  },
  [`${meta}.Time`]: { type: 'string', format: 'date-time' },
  [`${meta}.Preconditions`]: {
    type: 'object',
    properties: { resourceVersion: { type: 'string' }, uid: { type: 'string' } },
  },
  [`${meta}.DeleteOptions`]: {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      dryRun: { type: 'array', items: { type: 'string', default: '' }, 'x-kubernetes-list-type': 'atomic' },
      gracePeriodSeconds: { type: 'integer', format: 'int64' },
      kind: { type: 'string' },
      orphanDependents: { type: 'boolean' },
      preconditions: ref(`${meta}.Preconditions`),
      propagationPolicy: { type: 'string' },
    },
    'x-kubernetes-group-version-kind': gvk('', 'v1', 'DeleteOptions'),
  },
  [`${meta}.Status`]: {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      code: { type: 'integer', format: 'int32' },
      details: { type: 'object' },
      kind: { type: 'string' },
      message: { type: 'string' },
      metadata: { default: {}, allOf: [ref(`${meta}.ListMeta`)] },
      reason: { type: 'string' },
      status: { type: 'string' },
    },
    'x-kubernetes-group-version-kind': gvk('', 'v1', 'Status'),
  },
  [`${meta}.Patch`]: { type: 'object' },
};

const query = (name: string, type = 'string') => ({
  name,
  in: 'query',
  schema: { type, uniqueItems: true },
});
const pathParam = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', uniqueItems: true },
});
const json = (schema: unknown) => ({ 'application/json': { schema }, 'application/yaml': { schema } });
const secretGvk = { group: '', version: 'v1', kind: 'Secret' };
const writeParams = [query('dryRun'), query('fieldManager'), query('fieldValidation')];
const listParams = [
  query('allowWatchBookmarks', 'boolean'),
  query('continue'),
  query('fieldSelector'),
  query('labelSelector'),
  query('limit', 'integer'),
  query('resourceVersion'),
  query('resourceVersionMatch'),
  query('timeoutSeconds', 'integer'),
  query('watch', 'boolean'),
];
const secret = ref('io.k8s.api.core.v1.Secret');
const answer = (schema: unknown, code = '200') => ({
  responses: { [code]: { content: json(schema) }, '401': {} },
});

const paths: Record<string, unknown> = {
  '/api/v1/namespaces/{namespace}/secrets': {
    get: {
      tags: ['core_v1'],
      operationId: 'listCoreV1NamespacedSecret',
      parameters: listParams,
      ...answer(ref('io.k8s.api.core.v1.SecretList')),
      'x-kubernetes-action': 'list',
      'x-kubernetes-group-version-kind': secretGvk,
    },
    post: {
      tags: ['core_v1'],
      operationId: 'createCoreV1NamespacedSecret',
      parameters: writeParams,
      requestBody: { content: { '*/*': { schema: secret } }, required: true },
      responses: {
        '200': { content: json(secret) },
        '201': { content: json(secret) },
        '202': { content: json(secret) },
        '401': {},
      },
      'x-kubernetes-action': 'post',
      'x-kubernetes-group-version-kind': secretGvk,
    },
    parameters: [pathParam('namespace'), query('pretty')],
  },
  '/api/v1/namespaces/{namespace}/secrets/{name}': {
    get: {
      tags: ['core_v1'],
      operationId: 'readCoreV1NamespacedSecret',
      ...answer(secret),
      'x-kubernetes-action': 'get',
      'x-kubernetes-group-version-kind': secretGvk,
    },
    put: {
      tags: ['core_v1'],
      operationId: 'replaceCoreV1NamespacedSecret',
      parameters: writeParams,
      requestBody: { content: { '*/*': { schema: secret } }, required: true },
      responses: { '200': { content: json(secret) }, '201': { content: json(secret) }, '401': {} },
      'x-kubernetes-action': 'put',
      'x-kubernetes-group-version-kind': secretGvk,
    },
    delete: {
      tags: ['core_v1'],
      operationId: 'deleteCoreV1NamespacedSecret',
      parameters: [query('dryRun'), query('gracePeriodSeconds', 'integer'), query('propagationPolicy')],
      requestBody: { content: { '*/*': { schema: ref(`${meta}.DeleteOptions`) } } },
      ...answer(ref(`${meta}.Status`)),
      'x-kubernetes-action': 'delete',
      'x-kubernetes-group-version-kind': secretGvk,
    },
    patch: {
      tags: ['core_v1'],
      operationId: 'patchCoreV1NamespacedSecret',
      parameters: [...writeParams, query('force', 'boolean')],
      requestBody: {
        content: {
          'application/json-patch+json': { schema: ref(`${meta}.Patch`) },
          'application/merge-patch+json': { schema: ref(`${meta}.Patch`) },
          'application/strategic-merge-patch+json': { schema: ref(`${meta}.Patch`) },
        },
        required: true,
      },
      responses: { '200': { content: json(secret) }, '401': {} },
      'x-kubernetes-action': 'patch',
      'x-kubernetes-group-version-kind': secretGvk,
    },
    parameters: [pathParam('name'), pathParam('namespace'), query('pretty')],
  },
};

/** The `/openapi/v3/api/v1` document. */
export const coreV1OpenApi: Readonly<Record<string, unknown>> = Object.freeze({
  openapi: '3.0.0',
  info: { title: 'Kubernetes', version: 'v1.32.0' },
  paths,
  components: {
    schemas,
    securitySchemes: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header' } },
  },
  security: [{ BearerToken: [] }],
});

/** The `/openapi/v3` index: where each group-version's document is. */
export function openApiIndex(): Record<string, unknown> {
  return {
    paths: {
      'api/v1': {
        serverRelativeURL:
          '/openapi/v3/api/v1?hash=C0FFEE0DOUBLE0000000000000000000000000000000000000000000000000000',
      },
    },
  };
}
