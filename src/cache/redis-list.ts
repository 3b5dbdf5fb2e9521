import type { Cluster, Redis } from 'ioredis';
import { remainingTtlMs } from './entry.js';
import { decodeEntryMeta, entryHeaderBytes } from './entry-codec.js';
import { type EntryPage, type ListQuery, metaMatches, StoreError } from './store.js';

type Client = Redis | Cluster;

/** What listing needs from a RedisStore. */
export interface EntryLister {
  /** Prefix of entry keys (`<prefix>e:`), stripped to give cache keys. */
  prefix: string;
  client: Client;
  masters(): Redis[];
  /** The namespace or tag index set to SSCAN; undefined to SCAN all entry keys. */
  indexKey: string | undefined;
  entryPattern: string;
}

/** A header is a few hundred bytes; one read of this size almost always covers it. */
const HEADER_READ = 4096;
/** Scan rounds per page, so a sparse filter cannot hold one request for the whole keyspace. */
const MAX_ROUNDS = 20;

interface Position {
  /** Index into masters() (0 for an index set). */
  node: number;
  scan: string;
  /** Members of the batch starting at `scan` already returned. */
  skip: number;
}

/**
 * One page of entry metadata. The cursor is `node:scan:skip`: where a SCAN/SSCAN batch starts
 * and how much of it was already returned, so a page never exceeds `limit` even when Redis
 * hands back a larger batch (small sets come back whole whatever COUNT says).
 */
export async function listEntries(lister: EntryLister, query: ListQuery): Promise<EntryPage> {
  let at = parseCursor(query.cursor);
  const entries: EntryPage['entries'] = [];
  const nodes = lister.indexKey === undefined ? lister.masters() : [];
  const count = Math.max(query.limit, 100);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const [next, keys] = await scanBatch(lister, nodes, at, count);
    const metas = await readMetas(lister.client, keys.map((key) => `${lister.prefix}${key}`));
    for (let i = at.skip; i < keys.length; i++) {
      const meta = metas[i];
      if (meta === undefined || !metaMatches(meta, query)) continue;
      entries.push({ key: keys[i] as string, meta });
      if (entries.length === query.limit) {
        const rest: Position | undefined =
          i + 1 < keys.length ? { ...at, skip: i + 1 } : advance(at, next, nodes.length);
        return { entries, cursor: rest && formatCursor(rest) };
      }
    }
    const following = advance(at, next, nodes.length);
    if (!following) return { entries };
    at = following;
  }
  return { entries, cursor: formatCursor(at) };
}

async function scanBatch(lister: EntryLister, nodes: Redis[], at: Position, count: number): Promise<[string, string[]]> {
  if (lister.indexKey !== undefined) return lister.client.sscan(lister.indexKey, at.scan, 'COUNT', count);
  const node = nodes[at.node];
  if (node === undefined) throw new StoreError('STORE_BAD_CURSOR', 'list cursor names a node that is gone');
  const [next, keys] = await node.scan(at.scan, 'MATCH', lister.entryPattern, 'COUNT', count);
  return [next, keys.map((key) => key.slice(lister.prefix.length))];
}

/** The position after a finished batch: the next batch on this node, the next node, or the end. */
function advance(at: Position, next: string, nodeCount: number): Position | undefined {
  if (next !== '0') return { node: at.node, scan: next, skip: 0 };
  if (at.node + 1 < nodeCount) return { node: at.node + 1, scan: '0', skip: 0 };
  return undefined;
}

/** Headers of live entries; undefined where the entry expired, vanished or is unreadable. */
async function readMetas(client: Client, keys: string[]) {
  return Promise.all(
    keys.map(async (key) => {
      let bytes = await client.getrangeBuffer(key, 0, HEADER_READ - 1);
      try {
        const needed = entryHeaderBytes(bytes);
        if (needed === undefined) return undefined;
        if (needed > bytes.byteLength) bytes = await client.getrangeBuffer(key, 0, needed - 1);
        const meta = decodeEntryMeta(bytes);
        return remainingTtlMs(meta) > 0 ? meta : undefined;
      } catch {
        // A corrupt entry is skipped here, as a get would treat it as a miss.
        return undefined;
      }
    }),
  );
}

function parseCursor(cursor: string | undefined): Position {
  if (cursor === undefined) return { node: 0, scan: '0', skip: 0 };
  const match = /^(\d{1,4}):(\d{1,20}):(\d{1,9})$/.exec(cursor);
  if (!match) throw new StoreError('STORE_BAD_CURSOR', `"${cursor}" is not a cursor this store handed out`);
  return { node: Number(match[1]), scan: match[2] as string, skip: Number(match[3]) };
}

function formatCursor(at: Position): string {
  return `${at.node}:${at.scan}:${at.skip}`;
}
