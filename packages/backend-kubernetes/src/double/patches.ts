import { KubeStatusError } from './k8s-status.js';

/**
 * The three patch formats the API server takes for built-in types: JSON merge patch
 * (RFC 7386, `kubectl label` and `annotate` send it), strategic merge patch (`kubectl apply`
 * and `kubectl patch` by default) and JSON patch (RFC 6902, `kubectl patch --type=json`).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386: objects merge key by key, `null` removes a key, anything else replaces. */
export function jsonMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = jsonMergePatch(out[key] ?? null, value);
  }
  return out;
}

/**
 * Strategic merge patch as it applies to a Secret: maps merge like a JSON merge patch, with the
 * directives `$patch: replace` / `$patch: delete` on a map, `$retainKeys`, and the list-order
 * hints (`$setElementOrder/...`) that kubectl adds, which order lists and change nothing here.
 * Lists of a Secret's metadata (finalizers, ownerReferences) are replaced, not merged by key.
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return null;
  const base: Record<string, Json> = directive === 'replace' || !isObject(target) ? {} : { ...target };
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys.map(String)) : undefined;
  if (retain !== undefined) {
    for (const key of Object.keys(base)) if (!retain.has(key)) delete base[key];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/') || key.startsWith('$deleteFromPrimitiveList/')) continue;
    if (value === null) {
      delete base[key];
      continue;
    }
    if (isObject(value) && value.$patch === 'delete') {
      delete base[key];
      continue;
    }
    const merged = strategicMergePatch(base[key] ?? null, value);
    if (merged === null) delete base[key];
    else base[key] = merged;
  }
  return base;
}

function invalidPatch(message: string): KubeStatusError {
  return new KubeStatusError(422, 'Invalid', message);
}

function pointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) {
    throw invalidPatch(`the server rejected our request due to an error in our request`);
  }
  return path === ''
    ? []
    : path
        .slice(1)
        .split('/')
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[]): { parent: Record<string, Json> | Json[]; last: string } {
  let node: Json = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(part)] ?? null;
    else if (isObject(node)) node = node[part] ?? null;
    else node = null;
    if (node === null) throw invalidPatch(`jsonpatch: doc is missing path: /${parts.join('/')}`);
  }
  if (!Array.isArray(node) && !isObject(node)) {
    throw invalidPatch(`jsonpatch: doc is missing path: /${parts.join('/')}`);
  }
  return { parent: node, last: parts[parts.length - 1] ?? '' };
}

function read(doc: Json, parts: string[]): Json | undefined {
  let node: Json | undefined = doc;
  for (const part of parts) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isObject(node)) node = Object.hasOwn(node, part) ? node[part] : undefined;
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** RFC 6902 JSON patch: add, remove, replace, move, copy and test. */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations))
    throw invalidPatch('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  for (const op of operations) {
    if (!isObject(op)) throw invalidPatch('invalid JSON patch operation');
    const parts = pointer(op.path);
    const put = (value: Json, insert: boolean) => {
      if (parts.length === 0) {
        doc = structuredClone(value);
        return;
      }
      const { parent, last } = parentOf(doc, parts);
      if (Array.isArray(parent)) {
        const index = last === '-' ? parent.length : Number(last);
        if (!Number.isInteger(index) || index < 0 || index > parent.length) {
          throw invalidPatch(`jsonpatch: index out of bounds: /${parts.join('/')}`);
        }
        if (insert) parent.splice(index, 0, structuredClone(value));
        else parent[index] = structuredClone(value);
      } else parent[last] = structuredClone(value);
    };
    const remove = () => {
      const { parent, last } = parentOf(doc, parts);
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else {
        if (!Object.hasOwn(parent, last))
          throw invalidPatch(
            `jsonpatch remove operation does not apply: doc is missing key: /${parts.join('/')}`,
          );
        delete parent[last];
      }
    };
    switch (op.op) {
      case 'add':
        put(op.value ?? null, true);
        break;
      case 'replace':
        if (read(doc, parts) === undefined) {
          throw invalidPatch(
            `jsonpatch replace operation does not apply: doc is missing key: /${parts.join('/')}`,
          );
        }
        put(op.value ?? null, false);
        break;
      case 'remove':
        remove();
        break;
      case 'move':
      case 'copy': {
        const from = pointer(op.from);
        const value = read(doc, from);
        if (value === undefined)
          throw invalidPatch(`jsonpatch ${op.op} operation does not apply: doc is missing from path`);
        if (op.op === 'move') {
          const { parent, last } = parentOf(doc, from);
          if (Array.isArray(parent)) parent.splice(Number(last), 1);
          else delete parent[last];
        }
        put(value, true);
        break;
      }
      case 'test':
        if (JSON.stringify(read(doc, parts)) !== JSON.stringify(op.value)) {
          throw invalidPatch(`the server rejected our request due to an error in our request`);
        }
        break;
      default:
        throw invalidPatch(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}
