import { badRequest } from './k8s-status.js';

/**
 * Reading the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`) of the two
 * request bodies clients send in it: a Secret (kubectl's typed client creates and updates
 * Secrets in protobuf) and DeleteOptions. The envelope is the magic `k8s\0` followed by a
 * `runtime.Unknown` message whose `raw` field holds the object; field numbers are those of
 * `k8s.io/api/core/v1/generated.proto` and `k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto`.
 * The double answers in JSON, which those clients accept as well.
 */

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { no: number; wire: number; value: bigint | Buffer };

function fail(): never {
  throw badRequest('the body of the request could not be decoded as application/vnd.kubernetes.protobuf');
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length; i++) {
    const byte = buf[i]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, i + 1];
    shift += 7n;
    if (shift > 63n) fail();
  }
  return fail();
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [value, after] = readVarint(buf, at);
      out.push({ no, wire, value });
      at = after;
    } else if (wire === 2) {
      const [length, after] = readVarint(buf, at);
      const end = after + Number(length);
      if (end > buf.length) fail();
      out.push({ no, wire, value: buf.subarray(after, end) });
      at = end;
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else fail();
  }
  if (at !== buf.length) fail();
  return out;
}

function bytesOf(field: Field): Buffer {
  if (!Buffer.isBuffer(field.value)) fail();
  return field.value;
}

function text(field: Field): string {
  return bytesOf(field).toString('utf8');
}

function int(field: Field): number {
  if (Buffer.isBuffer(field.value)) fail();
  return Number(BigInt.asIntN(64, field.value));
}

function mapEntry(field: Field): [string, Buffer] {
  let key = '';
  let value: Buffer = Buffer.alloc(0);
  for (const f of fields(bytesOf(field))) {
    if (f.no === 1) key = text(f);
    else if (f.no === 2) value = bytesOf(f);
  }
  return [key, value];
}

function time(field: Field): string {
  let seconds = 0;
  for (const f of fields(bytesOf(field))) if (f.no === 1) seconds = int(f);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

function ownerReference(field: Field): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields(bytesOf(field))) {
    if (f.no === 1) out.kind = text(f);
    else if (f.no === 3) out.name = text(f);
    else if (f.no === 4) out.uid = text(f);
    else if (f.no === 5) out.apiVersion = text(f);
    else if (f.no === 6) out.controller = int(f) !== 0;
    else if (f.no === 7) out.blockOwnerDeletion = int(f) !== 0;
  }
  return out;
}

function objectMeta(buf: Buffer): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const finalizers: string[] = [];
  const owners: Record<string, unknown>[] = [];
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        meta.name = text(f);
        break;
      case 2:
        meta.generateName = text(f);
        break;
      case 3:
        meta.namespace = text(f);
        break;
      case 5:
        meta.uid = text(f);
        break;
      case 6:
        meta.resourceVersion = text(f);
        break;
      case 8:
        meta.creationTimestamp = time(f);
        break;
      case 11: {
        const [k, v] = mapEntry(f);
        labels[k] = v.toString('utf8');
        break;
      }
      case 12: {
        const [k, v] = mapEntry(f);
        annotations[k] = v.toString('utf8');
        break;
      }
      case 13:
        owners.push(ownerReference(f));
        break;
      case 14:
        finalizers.push(text(f));
        break;
      default:
        break;
    }
  }
  if (Object.keys(labels).length > 0) meta.labels = labels;
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  if (finalizers.length > 0) meta.finalizers = finalizers;
  if (owners.length > 0) meta.ownerReferences = owners;
  return meta;
}

/** The object inside the `k8s\0` envelope: its apiVersion, kind and raw bytes. */
function unwrap(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < 4 || !body.subarray(0, 4).equals(magic)) fail();
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  for (const f of fields(body.subarray(4))) {
    if (f.no === 1) {
      for (const t of fields(bytesOf(f))) {
        if (t.no === 1) apiVersion = text(t);
        else if (t.no === 2) kind = text(t);
      }
    } else if (f.no === 2) raw = bytesOf(f);
  }
  return { apiVersion, kind, raw };
}

/** A protobuf Secret as the JSON body the API would have received (data in base64). */
export function secretFromProtobuf(body: Buffer): Record<string, unknown> {
  const { apiVersion, kind, raw } = unwrap(body);
  const out: Record<string, unknown> = { apiVersion: apiVersion || 'v1', kind: kind || 'Secret' };
  const data: Record<string, string> = {};
  const stringData: Record<string, string> = {};
  for (const f of fields(raw)) {
    if (f.no === 1) out.metadata = objectMeta(bytesOf(f));
    else if (f.no === 2) {
      const [k, v] = mapEntry(f);
      data[k] = v.toString('base64');
    } else if (f.no === 3) out.type = text(f);
    else if (f.no === 4) {
      const [k, v] = mapEntry(f);
      stringData[k] = v.toString('utf8');
    } else if (f.no === 5) out.immutable = int(f) !== 0;
  }
  if (Object.keys(data).length > 0) out.data = data;
  if (Object.keys(stringData).length > 0) out.stringData = stringData;
  return out;
}

/** Protobuf DeleteOptions as their JSON form. */
export function deleteOptionsFromProtobuf(body: Buffer): Record<string, unknown> {
  const { raw } = unwrap(body);
  const out: Record<string, unknown> = {};
  for (const f of fields(raw)) {
    if (f.no === 1) out.gracePeriodSeconds = int(f);
    else if (f.no === 2) {
      const pre: Record<string, string> = {};
      for (const p of fields(bytesOf(f))) {
        if (p.no === 1) pre.uid = text(p);
        else if (p.no === 2) pre.resourceVersion = text(p);
      }
      out.preconditions = pre;
    } else if (f.no === 3) out.orphanDependents = int(f) !== 0;
    else if (f.no === 4) out.propagationPolicy = text(f);
    else if (f.no === 5) out.dryRun = [...((out.dryRun as string[] | undefined) ?? []), text(f)];
  }
  return out;
}
