import type { ProtocolName, Usage } from '../protocols/types.js';
import type { FramingName } from '../sse/framing.js';

export const ENTRY_VERSION = 1;

/** How the recorded answer was framed on the wire: a JSON body, or a stream of frames. */
export type EntryFormat = 'json' | FramingName;

/**
 * One recorded upstream answer, as stored in every tier. Bytes are kept exactly as they
 * arrived; everything else is derived metadata.
 */
export interface CacheEntry {
  version: typeof ENTRY_VERSION;
  format: EntryFormat;
  protocol: ProtocolName;
  /** The upstream's Content-Type, replayed as is. */
  contentType: string;
  /** Epoch ms when the answer finished arriving. */
  createdAt: number;
  /** Time to live in ms, counted from createdAt. */
  ttlMs: number;
  model: string;
  usage?: Usage | undefined;
  namespace: string;
  tags: string[];
  /** The raw body: the JSON document, or the whole stream (SSE or event-stream bytes). */
  body: Uint8Array;
  /** Streams only: absolute end offset of each complete event frame in `body`, ascending. */
  eventEnds?: Uint32Array | undefined;
  /** Streams only: ms since the first byte at which each event (same index as eventEnds) completed. */
  eventTimes?: Uint32Array | undefined;
  /** Streams only: index of an event that only carries usage (see StreamVerdict.usageEventIndex). */
  usageEventIndex?: number | undefined;
  /**
   * How long the upstream took, from sending the request to the end of the body, in ms: what a
   * hit saves in time. Absent on entries recorded before it was kept, and on library entries.
   */
  upstreamMs?: number | undefined;
}

/** The metadata fields an operator sees as stored (everything of an entry but its bytes and spans). */
type MetaFields =
  | 'format'
  | 'protocol'
  | 'contentType'
  | 'createdAt'
  | 'ttlMs'
  | 'model'
  | 'usage'
  | 'namespace'
  | 'tags'
  | 'upstreamMs';

/**
 * What an operator may see of an entry: its metadata fields (picked from CacheEntry, so a field
 * cannot be spelled or typed two ways) and the sizes of what it recorded.
 */
export interface EntryMeta extends Pick<CacheEntry, MetaFields> {
  bodyBytes: number;
  /** Recorded SSE events (0 for JSON). */
  events: number;
}

/** The metadata every view of an entry carries whole: the codec's header and an operator's EntryMeta. */
export type DescriptiveField = 'format' | 'protocol' | 'contentType' | 'createdAt' | 'ttlMs' | 'model' | 'namespace' | 'tags';

export function descriptiveFields(entry: CacheEntry): Pick<CacheEntry, DescriptiveField> {
  return {
    format: entry.format,
    protocol: entry.protocol,
    contentType: entry.contentType,
    createdAt: entry.createdAt,
    ttlMs: entry.ttlMs,
    model: entry.model,
    namespace: entry.namespace,
    tags: entry.tags,
  };
}

export function entryMeta(entry: CacheEntry): EntryMeta {
  return {
    ...descriptiveFields(entry),
    usage: entry.usage,
    bodyBytes: entry.body.byteLength,
    events: entry.eventEnds?.length ?? 0,
    upstreamMs: entry.upstreamMs,
  };
}

export function expiresAt(entry: { createdAt: number; ttlMs: number }): number {
  return entry.createdAt + entry.ttlMs;
}

export function remainingTtlMs(entry: { createdAt: number; ttlMs: number }, now = Date.now()): number {
  return expiresAt(entry) - now;
}

/**
 * Fixed resident cost of one entry beyond its payload: the entry object, the Buffer and typed-array
 * wrappers and the LRU bookkeeping. Measured by `npm run bench:cache` (about 3.6 KB per entry).
 */
const ENTRY_OVERHEAD_BYTES = 3584;

/** Approximate resident size, used for the L1 byte budget: payload plus typed arrays plus a fixed overhead. */
export function entrySize(entry: CacheEntry): number {
  const metadata =
    ENTRY_OVERHEAD_BYTES + entry.model.length * 2 + entry.namespace.length * 2 + entry.tags.join('').length * 2;
  return (
    entry.body.byteLength +
    (entry.eventEnds?.byteLength ?? 0) +
    (entry.eventTimes?.byteLength ?? 0) +
    metadata
  );
}
