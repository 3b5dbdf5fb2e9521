/**
 * Header block of the AWS event-stream format: name length (u8), name (UTF-8), type (u8),
 * value. Internal to eventstream.ts; the value shapes are public through it.
 */
import { EventStreamError } from './errors.js';

export type EventStreamHeaderValue =
  | { type: 'boolean'; value: boolean }
  | { type: 'byte'; value: number }
  | { type: 'short'; value: number }
  | { type: 'integer'; value: number }
  | { type: 'long'; value: bigint }
  | { type: 'binary'; value: Uint8Array }
  | { type: 'string'; value: string }
  | { type: 'timestamp'; value: Date }
  /** Canonical lowercase 8-4-4-4-12 hex form. */
  | { type: 'uuid'; value: string };

export type EventStreamHeaders = Record<string, EventStreamHeaderValue>;

const TYPE_TRUE = 0;
const TYPE_FALSE = 1;
const TYPE_BYTE = 2;
const TYPE_SHORT = 3;
const TYPE_INTEGER = 4;
const TYPE_LONG = 5;
const TYPE_BINARY = 6;
const TYPE_STRING = 7;
const TYPE_TIMESTAMP = 8;
const TYPE_UUID = 9;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

function headerError(message: string): never {
  throw new EventStreamError('EVENTSTREAM_HEADER', message);
}

/** Parses the header block `bytes[from, to)`. Keys go on a null-prototype object, so `__proto__` is just a name. */
export function decodeHeaders(bytes: Uint8Array, from: number, to: number): EventStreamHeaders {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headers: EventStreamHeaders = Object.create(null) as EventStreamHeaders;
  let pos = from;
  const need = (count: number): void => {
    if (pos + count > to) headerError(`header block truncated at byte ${pos - from}`);
  };
  while (pos < to) {
    const nameLength = bytes[pos] ?? 0;
    pos++;
    if (nameLength === 0) headerError('header with an empty name');
    need(nameLength + 1);
    const name = decodeUtf8(bytes, pos, pos + nameLength);
    pos += nameLength;
    const type = bytes[pos];
    pos++;
    let value: EventStreamHeaderValue;
    switch (type) {
      case TYPE_TRUE:
        value = { type: 'boolean', value: true };
        break;
      case TYPE_FALSE:
        value = { type: 'boolean', value: false };
        break;
      case TYPE_BYTE:
        need(1);
        value = { type: 'byte', value: view.getInt8(pos) };
        pos += 1;
        break;
      case TYPE_SHORT:
        need(2);
        value = { type: 'short', value: view.getInt16(pos) };
        pos += 2;
        break;
      case TYPE_INTEGER:
        need(4);
        value = { type: 'integer', value: view.getInt32(pos) };
        pos += 4;
        break;
      case TYPE_LONG:
        need(8);
        value = { type: 'long', value: view.getBigInt64(pos) };
        pos += 8;
        break;
      case TYPE_BINARY:
      case TYPE_STRING: {
        need(2);
        const length = view.getUint16(pos);
        pos += 2;
        need(length);
        value =
          type === TYPE_BINARY
            ? { type: 'binary', value: bytes.slice(pos, pos + length) }
            : { type: 'string', value: decodeUtf8(bytes, pos, pos + length) };
        pos += length;
        break;
      }
      case TYPE_TIMESTAMP:
        need(8);
        value = { type: 'timestamp', value: new Date(Number(view.getBigInt64(pos))) };
        pos += 8;
        break;
      case TYPE_UUID:
        need(16);
        value = { type: 'uuid', value: formatUuid(bytes, pos) };
        pos += 16;
        break;
      default:
        headerError(`header "${name}" has unknown value type ${String(type)}`);
    }
    headers[name] = value;
  }
  return headers;
}

function decodeUtf8(bytes: Uint8Array, from: number, to: number): string {
  try {
    return utf8.decode(bytes.subarray(from, to));
  } catch {
    return headerError('header name or string value is not valid UTF-8');
  }
}

function formatUuid(bytes: Uint8Array, at: number): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset + at, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Serializes headers in insertion order. */
export function encodeHeaders(headers: EventStreamHeaders): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [name, header] of Object.entries(headers)) {
    const nameBytes = textEncoder.encode(name);
    if (nameBytes.length === 0 || nameBytes.length > 255) {
      headerError(`header name must be 1..255 UTF-8 bytes: "${name.slice(0, 40)}"`);
    }
    const valueBytes = encodeValue(name, header);
    const part = new Uint8Array(1 + nameBytes.length + valueBytes.length);
    part[0] = nameBytes.length;
    part.set(nameBytes, 1);
    part.set(valueBytes, 1 + nameBytes.length);
    parts.push(part);
    total += part.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Type byte followed by the value. */
function encodeValue(name: string, header: EventStreamHeaderValue): Uint8Array {
  switch (header.type) {
    case 'boolean':
      return Uint8Array.of(header.value ? TYPE_TRUE : TYPE_FALSE);
    case 'byte':
      return fixed(TYPE_BYTE, 1, (view) => view.setInt8(1, checkedInt(name, header.value, 8)));
    case 'short':
      return fixed(TYPE_SHORT, 2, (view) => view.setInt16(1, checkedInt(name, header.value, 16)));
    case 'integer':
      return fixed(TYPE_INTEGER, 4, (view) => view.setInt32(1, checkedInt(name, header.value, 32)));
    case 'long':
      return fixed(TYPE_LONG, 8, (view) => view.setBigInt64(1, BigInt.asIntN(64, header.value)));
    case 'timestamp':
      return fixed(TYPE_TIMESTAMP, 8, (view) => view.setBigInt64(1, BigInt(header.value.getTime())));
    case 'binary':
      return lengthPrefixed(name, TYPE_BINARY, header.value);
    case 'string':
      return lengthPrefixed(name, TYPE_STRING, textEncoder.encode(header.value));
    case 'uuid': {
      const hex = header.value.replace(/-/g, '');
      if (!/^[0-9a-fA-F]{32}$/.test(hex)) headerError(`header "${name}" is not a UUID`);
      const out = new Uint8Array(17);
      out[0] = TYPE_UUID;
      out.set(Buffer.from(hex, 'hex'), 1);
      return out;
    }
  }
}

function fixed(type: number, size: number, write: (view: DataView) => void): Uint8Array {
  const out = new Uint8Array(1 + size);
  out[0] = type;
  write(new DataView(out.buffer));
  return out;
}

function lengthPrefixed(name: string, type: number, value: Uint8Array): Uint8Array {
  if (value.length > 0xffff) headerError(`header "${name}" value exceeds 65535 bytes`);
  const out = new Uint8Array(3 + value.length);
  out[0] = type;
  new DataView(out.buffer).setUint16(1, value.length);
  out.set(value, 3);
  return out;
}

function checkedInt(name: string, value: number, bits: 8 | 16 | 32): number {
  const max = 2 ** (bits - 1);
  if (!Number.isInteger(value) || value < -max || value >= max) {
    headerError(`header "${name}" value ${value} does not fit a signed ${bits}-bit integer`);
  }
  return value;
}
