import type { StoredSecret } from './secret-store.js';
import { secretJson } from './secret-store.js';

/** What `/version` answers (the double claims a recent release, so kubectl sees no skew). */
export const doubleVersion = Object.freeze({
  major: '1',
  minor: '32',
  emulationMajor: '1',
  emulationMinor: '32',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '31',
  gitVersion: 'v1.32.0-coffer-double',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
});

/** `/api`: the legacy core group's versions. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** `/apis`: no named groups (the double serves the core group only). */
export function apiGroups(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
}

/** `/api/v1`: the resources the double serves, as discovery describes them to kubectl. */
export function coreV1Resources(): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      {
        name: 'namespaces',
        singularName: 'namespace',
        namespaced: false,
        kind: 'Namespace',
        verbs: ['get', 'list'],
        shortNames: ['ns'],
        storageVersionHash: 'Q3oi5N2YM8M=',
      },
      {
        name: 'secrets',
        singularName: 'secret',
        namespaced: true,
        kind: 'Secret',
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        storageVersionHash: 'S6u1pOWzb84=',
      },
    ],
  };
}

const columnDefinitions = [
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description:
      'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated.',
    priority: 0,
  },
  {
    name: 'Type',
    type: 'string',
    format: '',
    description: 'Used to facilitate programmatic handling of secret data.',
    priority: 0,
  },
  {
    name: 'Data',
    type: 'string',
    format: '',
    description: 'Data contains the secret data.',
    priority: 0,
  },
  {
    name: 'Age',
    type: 'string',
    format: '',
    description:
      'CreationTimestamp is a timestamp representing the server time when this object was created.',
    priority: 0,
  },
];

/** `5s`, `3m`, `2h`, `4d`, close to apimachinery's HumanDuration. */
function age(creationTimestamp: string, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(creationTimestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

/** How much of each row's object a Table carries (`includeObject`). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The server-side printing kubectl asks for (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`). */
export function secretTable(
  secrets: readonly StoredSecret[],
  resourceVersion: string,
  include: IncludeObject,
  now: Date,
  listMeta: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...listMeta, resourceVersion },
    columnDefinitions,
    rows: secrets.map((s) => ({
      cells: [
        s.metadata.name,
        s.type,
        Object.keys(s.data ?? {}).length,
        age(s.metadata.creationTimestamp, now),
      ],
      object:
        include === 'None'
          ? null
          : include === 'Object'
            ? secretJson(s)
            : {
                kind: 'PartialObjectMetadata',
                apiVersion: 'meta.k8s.io/v1',
                metadata: (secretJson(s) as { metadata: unknown }).metadata,
              },
    })),
  };
}
