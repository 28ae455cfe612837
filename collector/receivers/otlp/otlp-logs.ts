import { DaytwoError } from '../../../core/errors.js'
import { ExportLogsServiceRequest } from './otlp-schema.js'

// An OTLP ExportLogsServiceRequest, protobuf or JSON, as plain values: attributes as strings,
// times as decimal nanoseconds, ids as hex. Both encodings go through one reader, checked
// field by field, so a bad body is a 400 that names the field, never a crash:
//   - protobuf is decoded by protobufjs into objects with lowerCamelCase keys, longs as decimal
//     strings and bytes as Uint8Array;
//   - OTLP/JSON (the spec's JSON mapping) has the same keys, 64-bit integers as strings or
//     numbers, trace and span ids as hex, `bytesValue` as base64, enums as integers.

/** A value as a string, as Loki and the OpenTelemetry Collector's pcommon `AsString` write it. */
export type Flat = string

export interface OtlpRecord {
  /** time_unix_nano, else observed_time_unix_nano, else '' (the receiver's clock then). */
  ns: string
  severityNumber: number
  severityText: string
  body: Flat
  attributes: Record<string, Flat>
  traceId: string
  spanId: string
  eventName: string
}

export interface OtlpScopeLogs { name: string, version: string, attributes: Record<string, Flat>, records: OtlpRecord[] }
export interface OtlpResourceLogs { attributes: Record<string, Flat>, scopes: OtlpScopeLogs[] }

type Obj = Record<string, unknown>
type Encoding = 'json' | 'protobuf'

export function decodeOtlpProtobuf (body: Buffer): OtlpResourceLogs[] {
  let doc: unknown
  try {
    doc = ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(body), { longs: String, enums: Number, defaults: false })
  } catch (err) {
    throw bad(`body is not an OTLP ExportLogsServiceRequest: ${(err as Error).message}`)
  }
  return request(doc, 'protobuf')
}

export function decodeOtlpJson (body: string): OtlpResourceLogs[] {
  let doc: unknown
  try { doc = JSON.parse(body) } catch (err) { throw bad(`body is not JSON: ${(err as Error).message}`) }
  return request(doc, 'json')
}

function request (doc: unknown, enc: Encoding): OtlpResourceLogs[] {
  const d = object(doc, 'the request')
  return list(d.resourceLogs, 'resourceLogs').map((r, i) => {
    const rl = object(r, `resourceLogs[${i}]`)
    const res = rl.resource === undefined ? {} : object(rl.resource, `resourceLogs[${i}].resource`)
    return {
      attributes: keyValues(res.attributes, `resourceLogs[${i}].resource.attributes`, enc),
      scopes: list(rl.scopeLogs, `resourceLogs[${i}].scopeLogs`).map((s, j) => {
        const where = `resourceLogs[${i}].scopeLogs[${j}]`
        const sl = object(s, where)
        const scope = sl.scope === undefined ? {} : object(sl.scope, `${where}.scope`)
        return {
          name: str(scope.name, `${where}.scope.name`),
          version: str(scope.version, `${where}.scope.version`),
          attributes: keyValues(scope.attributes, `${where}.scope.attributes`, enc),
          records: list(sl.logRecords, `${where}.logRecords`).map((x, k) => record(x, `${where}.logRecords[${k}]`, enc))
        }
      })
    }
  })
}

function record (x: unknown, where: string, enc: Encoding): OtlpRecord {
  const r = object(x, where)
  const time = u64(r.timeUnixNano, `${where}.timeUnixNano`)
  const observed = u64(r.observedTimeUnixNano, `${where}.observedTimeUnixNano`)
  const sev = r.severityNumber ?? 0
  if (typeof sev !== 'number' || !Number.isInteger(sev) || sev < 0 || sev > 24) throw bad(`${where}.severityNumber is not a SeverityNumber (0–24)`)
  return {
    ns: time !== '0' ? time : observed !== '0' ? observed : '',
    severityNumber: sev,
    severityText: str(r.severityText, `${where}.severityText`),
    body: r.body === undefined ? '' : flat(r.body, `${where}.body`, enc),
    attributes: keyValues(r.attributes, `${where}.attributes`, enc),
    traceId: id(r.traceId, `${where}.traceId`, enc, 16),
    spanId: id(r.spanId, `${where}.spanId`, enc, 8),
    eventName: str(r.eventName, `${where}.eventName`)
  }
}

function keyValues (v: unknown, where: string, enc: Encoding): Record<string, Flat> {
  const out: Record<string, Flat> = {}
  list(v, where).forEach((kv, i) => {
    const o = object(kv, `${where}[${i}]`)
    const key = str(o.key, `${where}[${i}].key`)
    out[key] = o.value === undefined ? '' : flat(o.value, `${where}[${i}].value`, enc)
  })
  return out
}

/** An AnyValue as text: strings as they are, arrays and maps as JSON, bytes as base64. */
function flat (v: unknown, where: string, enc: Encoding): Flat {
  const r = raw(v, where, enc)
  return typeof r === 'string' ? r : r === null ? '' : JSON.stringify(r)
}

type Raw = string | number | boolean | null | Raw[] | { [k: string]: Raw }

function raw (v: unknown, where: string, enc: Encoding): Raw {
  const a = object(v, where)
  if (a.stringValue !== undefined) return str(a.stringValue, `${where}.stringValue`)
  if (a.boolValue !== undefined) {
    if (typeof a.boolValue !== 'boolean') throw bad(`${where}.boolValue is not a boolean`)
    return a.boolValue
  }
  if (a.intValue !== undefined) {
    // A number inside JSON text where it is exact, as pcommon's AsRaw; its decimal text otherwise.
    const s = i64(a.intValue, `${where}.intValue`)
    return Number.isSafeInteger(Number(s)) ? Number(s) : s
  }
  if (a.doubleValue !== undefined) {
    const d = a.doubleValue
    if (typeof d === 'number') return d
    if (d === 'NaN' || d === 'Infinity' || d === '-Infinity') return d
    throw bad(`${where}.doubleValue is not a number`)
  }
  if (a.bytesValue !== undefined) return bytes(a.bytesValue, `${where}.bytesValue`, enc)
  if (a.arrayValue !== undefined) {
    const arr = object(a.arrayValue, `${where}.arrayValue`)
    return list(arr.values, `${where}.arrayValue.values`).map((x, i) => raw(x, `${where}.arrayValue.values[${i}]`, enc))
  }
  if (a.kvlistValue !== undefined) {
    const kv = object(a.kvlistValue, `${where}.kvlistValue`)
    const out: { [k: string]: Raw } = {}
    list(kv.values, `${where}.kvlistValue.values`).forEach((e, i) => {
      const o = object(e, `${where}.kvlistValue.values[${i}]`)
      out[str(o.key, `${where}.kvlistValue.values[${i}].key`)] = o.value === undefined ? null : raw(o.value, `${where}.kvlistValue.values[${i}].value`, enc)
    })
    return out
  }
  return null
}

function object (v: unknown, where: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw bad(`${where} is not an object`)
  return v as Obj
}

function list (v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw bad(`${where} is not an array`)
  return v
}

function str (v: unknown, where: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw bad(`${where} is not a string`)
  return v
}

const UNSIGNED = /^\d{1,20}$/
const SIGNED = /^-?\d{1,19}$/

/** A fixed64 time as a decimal string ('0' when absent). */
function u64 (v: unknown, where: string): string {
  if (v === undefined || v === null) return '0'
  const s = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v
  if (typeof s !== 'string' || !UNSIGNED.test(s) || BigInt(s) >= 2n ** 64n) throw bad(`${where} is not an unsigned 64-bit integer`)
  return String(BigInt(s))
}

function i64 (v: unknown, where: string): string {
  const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v
  if (typeof s !== 'string' || !SIGNED.test(s)) throw bad(`${where} is not a 64-bit integer`)
  return String(BigInt(s))
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

function bytes (v: unknown, where: string, enc: Encoding): string {
  if (enc === 'protobuf' && v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (enc === 'json' && typeof v === 'string' && BASE64.test(v)) return v
  throw bad(`${where} is not ${enc === 'json' ? 'base64' : 'bytes'}`)
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/

/** A trace or span id as lowercase hex ('' when absent): bytes in protobuf, hex in OTLP/JSON. */
function id (v: unknown, where: string, enc: Encoding, size: number): string {
  if (v === undefined || v === null || v === '') return ''
  let hex: string
  if (enc === 'protobuf' && v instanceof Uint8Array) hex = Buffer.from(v).toString('hex')
  else if (enc === 'json' && typeof v === 'string' && HEX.test(v)) hex = v.toLowerCase()
  else throw bad(`${where} is not ${enc === 'json' ? 'hex' : 'bytes'}`)
  if (hex.length === 0) return ''
  if (hex.length !== size * 2) throw bad(`${where} is not ${size} bytes`)
  return hex
}

function bad (msg: string): DaytwoError {
  return new DaytwoError('BAD_BATCH', msg)
}
