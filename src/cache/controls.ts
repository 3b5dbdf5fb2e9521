import type { IncomingHttpHeaders } from 'node:http';
import type { ReplayPacing } from '../options-schema.js';

export type CacheMode = 'on' | 'off' | 'read-only' | 'write-only';

/** What the client asked of the cache, from standard and x-sluice-* request headers. */
export interface RequestControls {
  noCache: boolean;
  noStore: boolean;
  maxAgeSeconds: number | undefined;
  ttlSeconds: number | undefined;
  namespace: string;
  tags: string[];
  replay: ReplayPacing | undefined;
  /** `x-sluice-semantic: off` skips the semantic lookup for this request. */
  semantic: 'on' | 'off';
  /** `x-sluice-semantic-threshold`: may only raise the configured threshold (the layer takes the max). */
  semanticThreshold: number | undefined;
}

export type ControlsCheck =
  | { ok: true; controls: RequestControls }
  | { ok: false; message: string; header: string };

/** Namespaces and tags: safe in keys, index names and logs. */
export const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_TAGS = 16;

export function parseControls(headers: IncomingHttpHeaders): ControlsCheck {
  const controls: RequestControls = {
    noCache: false,
    noStore: false,
    maxAgeSeconds: undefined,
    ttlSeconds: undefined,
    namespace: 'default',
    tags: [],
    replay: undefined,
    semantic: 'on',
    semanticThreshold: undefined,
  };
  const cacheControl = headerValue(headers['cache-control']);
  // The two a client sends most, read without splitting (this runs on every request).
  if (cacheControl === 'no-cache') controls.noCache = true;
  else if (cacheControl === 'no-store') controls.noStore = true;
  else if (cacheControl) {
    for (const raw of cacheControl.split(',')) {
      const [name = '', value] = raw.trim().toLowerCase().split('=', 2);
      if (name === 'no-cache') controls.noCache = true;
      else if (name === 'no-store') controls.noStore = true;
      else if (name === 'max-age') {
        const seconds = parseSeconds(value);
        if (seconds === undefined) return bad('cache-control', 'max-age must be a whole number of seconds');
        controls.maxAgeSeconds = seconds;
      }
    }
  }
  const ttl = headerValue(headers['x-sluice-ttl']);
  if (ttl !== undefined) {
    const seconds = parseSeconds(ttl);
    if (seconds === undefined || seconds === 0)
      return bad('x-sluice-ttl', 'x-sluice-ttl must be a positive whole number of seconds');
    controls.ttlSeconds = seconds;
  }
  const namespace = headerValue(headers['x-sluice-namespace']);
  if (namespace !== undefined) {
    if (!NAME_PATTERN.test(namespace)) {
      return bad('x-sluice-namespace', 'x-sluice-namespace must be 1-128 characters of A-Z a-z 0-9 . _ : -');
    }
    controls.namespace = namespace;
  }
  const tags = headerValue(headers['x-sluice-tags']);
  if (tags !== undefined) {
    const list = tags
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
    if (list.length > MAX_TAGS || list.some((t) => !NAME_PATTERN.test(t))) {
      return bad(
        'x-sluice-tags',
        `x-sluice-tags must be at most ${MAX_TAGS} comma-separated names of A-Z a-z 0-9 . _ : -`,
      );
    }
    controls.tags = [...new Set(list)];
  }
  const replay = headerValue(headers['x-sluice-replay']);
  if (replay !== undefined) {
    const parsed = parseReplay(replay);
    if (parsed === undefined) {
      return bad(
        'x-sluice-replay',
        'x-sluice-replay must be instant, realtime or a number of tokens per second',
      );
    }
    controls.replay = parsed;
  }
  const semantic = headerValue(headers['x-sluice-semantic'])?.trim().toLowerCase();
  if (semantic !== undefined) {
    if (semantic !== 'on' && semantic !== 'off') return bad('x-sluice-semantic', 'x-sluice-semantic must be on or off');
    controls.semantic = semantic;
  }
  const threshold = headerValue(headers['x-sluice-semantic-threshold'])?.trim();
  if (threshold !== undefined) {
    const value = /^(0(\.\d+)?|1(\.0+)?)$/.test(threshold) ? Number(threshold) : Number.NaN;
    if (Number.isNaN(value)) {
      return bad('x-sluice-semantic-threshold', 'x-sluice-semantic-threshold must be a number between 0 and 1');
    }
    controls.semanticThreshold = value;
  }
  return { ok: true, controls };
}

export function parseReplay(value: string): ReplayPacing | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'instant' || v === 'realtime') return v;
  if (/^\d+(\.\d+)?$/.test(v) && Number(v) > 0) return Number(v);
  return undefined;
}

/** What this request may do with the cache, and the outcome to report when it does not read. */
export interface CachePlan {
  read: boolean;
  write: boolean;
  /** Join (or become) the shared in-flight upstream call for the key. */
  coalesce: boolean;
  /** Reported when no cached answer is used: MISS, REFRESH or BYPASS. */
  forwardOutcome: 'MISS' | 'REFRESH' | 'BYPASS';
  bypassReason?: string;
}

export function planCache(
  mode: CacheMode,
  controls: RequestControls,
  cacheable: { cacheable: boolean; reason?: string },
): CachePlan {
  if (mode === 'off') return bypass('cache off');
  if (!cacheable.cacheable) return bypass(cacheable.reason ?? 'not cacheable');
  if (controls.noStore) return bypass('no-store');
  const canWrite = mode !== 'read-only';
  if (controls.noCache) return { read: false, write: canWrite, coalesce: false, forwardOutcome: 'REFRESH' };
  return { read: mode !== 'write-only', write: canWrite, coalesce: true, forwardOutcome: 'MISS' };
}

function bypass(reason: string): CachePlan {
  return { read: false, write: false, coalesce: false, forwardOutcome: 'BYPASS', bypassReason: reason };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

function parseSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function bad(header: string, message: string): ControlsCheck {
  return { ok: false, header, message };
}
