import type { ProtocolName, Usage } from '../protocols/types.js';
import { type CacheEntry, type DescriptiveField, descriptiveFields, ENTRY_VERSION, type EntryFormat, type EntryMeta } from './entry.js';
import { StoreError } from './store.js';

/**
 * The byte layout of a CacheEntry outside the process (Redis, files). The gateway and the
 * library share it, so an app and a gateway can share one Redis.
 *
 *   magic "SLCE" | format version u8 | header length u32 LE | header JSON (utf-8)
 *   | body bytes | eventEnds u32 LE * n | eventTimes u32 LE * m
 *
 * The header carries every metadata field plus the lengths of the three binary sections,
 * and the total size must match exactly: a truncated or padded buffer is corrupt, not
 * half-decoded. Body bytes stay raw (no base64) so an 8 MiB stream costs 8 MiB.
 */

const MAGIC = [0x53, 0x4c, 0x43, 0x45] as const; // "SLCE"
/** Bump when the byte layout changes; readers refuse versions they do not know. */
export const CODEC_VERSION = 1;
const PREFIX_BYTES = MAGIC.length + 1 + 4;

/** Adding a protocol to ProtocolName fails compilation here until the codec accepts it. */
const KNOWN_PROTOCOLS: Record<ProtocolName, true> = {
  'openai.chat': true,
  'openai.completions': true,
  'openai.responses': true,
  'openai.embeddings': true,
  'anthropic.messages': true,
  'bedrock.converse': true,
  'bedrock.invoke': true,
  'gemini.generate': true,
  'gemini.json': true,
  'sluice.chunks': true,
  'sluice.value': true,
};

/**
 * The JSON header before the body and the span arrays. Its metadata fields are CacheEntry's own
 * (picked, so a field cannot be typed two ways); what the bytes layout adds is the version under
 * its short name, the body length, and the span counts. Changing the layout means bumping
 * ENTRY_VERSION, whatever the type says.
 */
interface EntryHeader extends Pick<CacheEntry, DescriptiveField> {
  v: number;
  usage?: Usage;
  usageEventIndex?: number;
  upstreamMs?: number;
  bodyBytes: number;
  /** Element counts; absent when the entry has no such array (distinct from an empty one). */
  eventEnds?: number;
  eventTimes?: number;
}

export function encodeEntry(entry: CacheEntry): Buffer {
  // Key order is the layout's: v, the descriptive fields, bodyBytes, then the optional ones.
  const header: EntryHeader = { v: entry.version, ...descriptiveFields(entry), bodyBytes: entry.body.byteLength };
  if (entry.usage !== undefined) {
    header.usage = { inputTokens: entry.usage.inputTokens, outputTokens: entry.usage.outputTokens };
  }
  if (entry.usageEventIndex !== undefined) header.usageEventIndex = entry.usageEventIndex;
  if (entry.upstreamMs !== undefined) header.upstreamMs = entry.upstreamMs;
  if (entry.eventEnds !== undefined) header.eventEnds = entry.eventEnds.length;
  if (entry.eventTimes !== undefined) header.eventTimes = entry.eventTimes.length;

  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const endsBytes = (entry.eventEnds?.length ?? 0) * 4;
  const timesBytes = (entry.eventTimes?.length ?? 0) * 4;
  const out = Buffer.allocUnsafe(
    PREFIX_BYTES + headerBytes.length + entry.body.byteLength + endsBytes + timesBytes,
  );

  let offset = 0;
  for (const byte of MAGIC) out[offset++] = byte;
  out[offset++] = CODEC_VERSION;
  out.writeUInt32LE(headerBytes.length, offset);
  offset += 4;
  offset += headerBytes.copy(out, offset);
  out.set(entry.body, offset);
  offset += entry.body.byteLength;
  offset = writeU32Array(out, offset, entry.eventEnds);
  writeU32Array(out, offset, entry.eventTimes);
  return out;
}

export function decodeEntry(buf: Uint8Array): CacheEntry {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < PREFIX_BYTES || MAGIC.some((byte, i) => buf[i] !== byte)) {
    throw corrupt('not a Sluice cache entry (bad magic)');
  }
  const version = buf[MAGIC.length];
  if (version !== CODEC_VERSION) throw corrupt(`unknown entry codec version ${String(version)}`);
  const headerLength = view.getUint32(MAGIC.length + 1, true);
  let offset = PREFIX_BYTES;
  if (offset + headerLength > buf.byteLength) throw corrupt('truncated header');

  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + offset, headerLength).toString('utf8'));
  } catch (err) {
    throw corrupt('header is not valid JSON', err);
  }
  const header = checkHeader(raw);
  offset += headerLength;

  const endsCount = header.eventEnds ?? 0;
  const timesCount = header.eventTimes ?? 0;
  const expected = offset + header.bodyBytes + (endsCount + timesCount) * 4;
  if (expected !== buf.byteLength) {
    throw corrupt(`length mismatch: header says ${expected} bytes, got ${buf.byteLength}`);
  }

  // Copies, not views: the source buffer may be a pooled or larger network buffer, and
  // Uint32Array views need 4-byte alignment the source offset does not guarantee.
  const body = new Uint8Array(header.bodyBytes);
  body.set(buf.subarray(offset, offset + header.bodyBytes));
  offset += header.bodyBytes;
  const eventEnds = header.eventEnds === undefined ? undefined : readU32Array(view, offset, endsCount);
  offset += endsCount * 4;
  const eventTimes = header.eventTimes === undefined ? undefined : readU32Array(view, offset, timesCount);

  const entry: CacheEntry = {
    version: ENTRY_VERSION,
    format: header.format,
    protocol: header.protocol,
    contentType: header.contentType,
    createdAt: header.createdAt,
    ttlMs: header.ttlMs,
    model: header.model,
    namespace: header.namespace,
    tags: header.tags,
    body,
  };
  if (header.usage !== undefined) entry.usage = header.usage;
  if (eventEnds !== undefined) entry.eventEnds = eventEnds;
  if (eventTimes !== undefined) entry.eventTimes = eventTimes;
  if (header.usageEventIndex !== undefined) entry.usageEventIndex = header.usageEventIndex;
  if (header.upstreamMs !== undefined) entry.upstreamMs = header.upstreamMs;
  return entry;
}

/**
 * Bytes needed from the start of an encoded entry to read its metadata, given at least its first
 * PREFIX_BYTES (9); undefined when fewer were given. Lets a store read metadata without the body.
 */
export function entryHeaderBytes(prefix: Uint8Array): number | undefined {
  if (prefix.byteLength < PREFIX_BYTES) return undefined;
  if (MAGIC.some((byte, i) => prefix[i] !== byte)) throw corrupt('not a Sluice cache entry (bad magic)');
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  return PREFIX_BYTES + view.getUint32(MAGIC.length + 1, true);
}

/** The metadata of an encoded entry from its first entryHeaderBytes() bytes (more is fine). */
export function decodeEntryMeta(prefix: Uint8Array): EntryMeta {
  const needed = entryHeaderBytes(prefix);
  if (needed === undefined || prefix.byteLength < needed) throw corrupt('truncated header');
  if (prefix[MAGIC.length] !== CODEC_VERSION) throw corrupt(`unknown entry codec version ${String(prefix[MAGIC.length])}`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(prefix.buffer, prefix.byteOffset + PREFIX_BYTES, needed - PREFIX_BYTES).toString('utf8'));
  } catch (err) {
    throw corrupt('header is not valid JSON', err);
  }
  const h = checkHeader(raw);
  return {
    format: h.format,
    protocol: h.protocol,
    contentType: h.contentType,
    createdAt: h.createdAt,
    ttlMs: h.ttlMs,
    model: h.model,
    usage: h.usage,
    namespace: h.namespace,
    tags: h.tags,
    bodyBytes: h.bodyBytes,
    events: h.eventEnds ?? 0,
    upstreamMs: h.upstreamMs,
  };
}

function writeU32Array(out: Buffer, offset: number, values: Uint32Array | undefined): number {
  if (values === undefined) return offset;
  for (const value of values) {
    out.writeUInt32LE(value, offset);
    offset += 4;
  }
  return offset;
}

function readU32Array(view: DataView, offset: number, count: number): Uint32Array {
  const values = new Uint32Array(count);
  for (let i = 0; i < count; i++) values[i] = view.getUint32(offset + i * 4, true);
  return values;
}

function corrupt(message: string, cause?: unknown): StoreError {
  return new StoreError('STORE_CORRUPT_ENTRY', `corrupt cache entry: ${message}`, { cause });
}

/** Validates the untrusted header field by field; the message names the first bad field. */
function checkHeader(raw: unknown): EntryHeader {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt('header is not an object');
  const h = raw as Record<string, unknown>;
  const fail = (field: string): never => {
    throw corrupt(`bad header field "${field}"`);
  };
  const str = (field: string): string => {
    const value = h[field];
    return typeof value === 'string' ? value : fail(field);
  };
  const count = (value: unknown, field: string): number =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fail(field);
  const optionalCount = (field: string): number | undefined =>
    h[field] === undefined ? undefined : count(h[field], field);

  if (h.v !== ENTRY_VERSION) fail('v');
  const format = str('format');
  if (format !== 'json' && format !== 'sse' && format !== 'eventstream') fail('format');
  const protocol = str('protocol');
  if (!Object.hasOwn(KNOWN_PROTOCOLS, protocol)) fail('protocol');
  const tags = h.tags;
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) fail('tags');
  const createdAt = h.createdAt;
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) fail('createdAt');
  const ttlMs = h.ttlMs;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) fail('ttlMs');

  const header: EntryHeader = {
    v: ENTRY_VERSION,
    format: format as EntryFormat,
    protocol: protocol as ProtocolName,
    contentType: str('contentType'),
    createdAt: createdAt as number,
    ttlMs: ttlMs as number,
    model: str('model'),
    namespace: str('namespace'),
    tags: tags as string[],
    bodyBytes: count(h.bodyBytes, 'bodyBytes'),
  };
  if (h.usage !== undefined) {
    const usage = h.usage;
    if (typeof usage !== 'object' || usage === null) fail('usage');
    const u = usage as Record<string, unknown>;
    header.usage = {
      inputTokens: count(u.inputTokens, 'usage.inputTokens'),
      outputTokens: count(u.outputTokens, 'usage.outputTokens'),
    };
  }
  const usageEventIndex = optionalCount('usageEventIndex');
  if (usageEventIndex !== undefined) header.usageEventIndex = usageEventIndex;
  // An optional field, so entries written before it existed (or by older writers) still decode.
  const upstreamMs = optionalCount('upstreamMs');
  if (upstreamMs !== undefined) header.upstreamMs = upstreamMs;
  const eventEnds = optionalCount('eventEnds');
  if (eventEnds !== undefined) header.eventEnds = eventEnds;
  const eventTimes = optionalCount('eventTimes');
  if (eventTimes !== undefined) header.eventTimes = eventTimes;
  return header;
}
