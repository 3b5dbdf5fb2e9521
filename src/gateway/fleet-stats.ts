import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { emptyCounts, OUTCOMES, type OutcomeCounts } from '../stats/outcome-ring.js';
import type { PriceTable } from '../stats/prices.js';
import { SavingsTally } from '../stats/savings.js';
import type { OutcomeEvent } from './dashboard/recorder.js';

/**
 * The fleet's figures (issue 23, part 4): every replica adds what it counted to per-hour buckets
 * in Redis, and any replica sums them for `GET /admin/stats` → `fleet` and the dashboard. Fed by
 * one call, `record(event)`, with the same events as the local StatsRecorder, so it can become one
 * more sink of the per-request outcome record.
 *
 * Keys share the `{<prefix>fleet}` hash tag, so on a Redis Cluster they live in one slot and one
 * pipeline reads them all. Buckets are per hour, so a view is RETENTION_HOURS + 1 reads (per-minute
 * buckets made it 1,441 for a day); they expire after the retention. Each replica also keeps a
 * small member record (its own totals and when it last reported), dropped when it stops. The
 * client should not be the live traffic's connection (the server gives it the admin one).
 */

export interface FleetMember {
  id: string;
  startedAt: string;
  lastReportAt: string;
  requests: { total: number; byOutcome: OutcomeCounts };
  tokensSaved: { input: number; output: number };
  usdSaved: number;
}

export interface FleetView {
  /** Replicas that reported in the last MEMBER_WINDOW_MS. */
  replicas: number;
  members: FleetMember[];
  /** Summed over every replica's hourly buckets: the current hour and the 23 before it (up to 24 h). */
  windowMinutes: number;
  requests: { total: number; byOutcome: OutcomeCounts };
  tokensSaved: { input: number; output: number };
  usdSaved: number;
  timeSavedMs: number;
}

export interface FleetStatsOptions {
  client: Redis | Cluster;
  keyPrefix: string;
  prices: PriceTable;
  /** How often this replica adds its counts to Redis. Default 2000 ms (figures reach the fleet within 5 s). */
  reportEveryMs?: number;
  now?: () => number;
  onError?: (err: Error) => void;
}

const RETENTION_HOURS = 24;
const MEMBER_WINDOW_MS = 60_000;
/** Members silent this long are removed from the member hash when someone reads it. */
const MEMBER_FORGET_MS = 3_600_000;
const HOUR_MS = 3_600_000;

interface Counts {
  byOutcome: OutcomeCounts;
  input: number;
  output: number;
  usd: number;
  ms: number;
}

const emptyTally = (): Counts => ({ byOutcome: emptyCounts(), input: 0, output: 0, usd: 0, ms: 0 });

export class FleetStats {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly #client: Redis | Cluster;
  readonly #keys: { bucket: (hour: number) => string; members: string };
  readonly #savings: SavingsTally;
  readonly #now: () => number;
  readonly #onError: ((err: Error) => void) | undefined;
  readonly #startedAt: number;
  readonly #timer: NodeJS.Timeout;
  /** Counted since the last report, by hour (a report may cover the turn of an hour); at most the retention's hours. */
  #pending = new Map<number, Counts>();
  /** Counted since start, for this replica's member record. */
  readonly #own = emptyTally();
  #reporting: Promise<void> | undefined;

  constructor(options: FleetStatsOptions) {
    this.#client = options.client;
    const tag = `{${options.keyPrefix}fleet}`;
    this.#keys = { bucket: (hour) => `${tag}:h:${hour}`, members: `${tag}:members` };
    this.#savings = new SavingsTally(options.prices);
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError;
    this.#startedAt = this.#now();
    this.#timer = setInterval(() => void this.report(), options.reportEveryMs ?? 2_000);
    this.#timer.unref();
  }

  /** The one input: the events the local recorder gets. Only responses and hits count here. */
  record(event: OutcomeEvent): void {
    if (event.type !== 'response' && event.type !== 'hit') return;
    const hour = Math.floor(this.#now() / HOUR_MS);
    let counts = this.#pending.get(hour);
    if (counts === undefined) {
      counts = emptyTally();
      this.#pending.set(hour, counts);
      this.#dropExpired(hour);
    }
    if (event.type === 'response') {
      counts.byOutcome[event.outcome]++;
      this.#own.byOutcome[event.outcome]++;
      return;
    }
    const saved = this.#savings.hit({
      usage: event.entry.usage,
      models: [event.entry.model, event.requestModel],
      upstreamMs: event.entry.upstreamMs,
      replayMs: event.replayMs,
    });
    for (const tally of [counts, this.#own]) {
      tally.input += saved.tokens?.inputTokens ?? 0;
      tally.output += saved.tokens?.outputTokens ?? 0;
      tally.usd += saved.usd ?? 0;
      tally.ms += saved.ms ?? 0;
    }
  }

  /** Adds what was counted since the last report to Redis, and refreshes this replica's member record. */
  async report(): Promise<void> {
    if (this.#reporting) return this.#reporting;
    const pending = this.#pending;
    this.#pending = new Map();
    const pipeline = this.#client.pipeline();
    for (const [hour, counts] of pending) {
      const key = this.#keys.bucket(hour);
      for (const outcome of OUTCOMES) {
        if (counts.byOutcome[outcome] > 0) pipeline.hincrby(key, `r:${outcome}`, counts.byOutcome[outcome]);
      }
      if (counts.input > 0) pipeline.hincrby(key, 'tokens:input', counts.input);
      if (counts.output > 0) pipeline.hincrby(key, 'tokens:output', counts.output);
      if (counts.usd > 0) pipeline.hincrbyfloat(key, 'usd', counts.usd);
      if (counts.ms > 0) pipeline.hincrby(key, 'ms', Math.round(counts.ms));
      pipeline.pexpire(key, (RETENTION_HOURS + 1) * HOUR_MS);
    }
    pipeline.hset(this.#keys.members, this.id, JSON.stringify(this.#member()));
    this.#reporting = pipeline
      .exec()
      .then((results) => {
        for (const [err] of results ?? []) if (err) throw err;
      })
      .catch((err: unknown) => {
        // Counts not delivered are kept for the next report (INCR is not idempotent, so a report
        // that failed part-way may count some twice: the figures are for people, not billing).
        for (const [hour, counts] of pending) this.#merge(hour, counts);
        // Redis down for long: hours past the retention would never be read, so they go.
        this.#dropExpired(Math.floor(this.#now() / HOUR_MS));
        this.#onError?.(err as Error);
      })
      .finally(() => {
        this.#reporting = undefined;
      });
    return this.#reporting;
  }

  /** The fleet's figures, read from Redis. */
  async view(): Promise<FleetView> {
    const now = this.#now();
    const hour = Math.floor(now / HOUR_MS);
    const pipeline = this.#client.pipeline();
    pipeline.hgetall(this.#keys.members);
    for (let h = hour - RETENTION_HOURS + 1; h <= hour; h++) pipeline.hgetall(this.#keys.bucket(h));
    const results = (await pipeline.exec()) ?? [];
    const replies = results.map(([err, reply]) => {
      if (err) throw err;
      return (reply ?? {}) as Record<string, string>;
    });
    const [memberHash = {}, ...buckets] = replies;
    const members: FleetMember[] = [];
    const forget: string[] = [];
    for (const [id, json] of Object.entries(memberHash)) {
      const member = parseMember(json);
      if (member === undefined || now - Date.parse(member.lastReportAt) > MEMBER_FORGET_MS) forget.push(id);
      else if (now - Date.parse(member.lastReportAt) <= MEMBER_WINDOW_MS) members.push(member);
    }
    if (forget.length > 0) void this.#client.hdel(this.#keys.members, ...forget).catch(() => undefined);
    const sum = emptyTally();
    for (const bucket of buckets) {
      for (const outcome of OUTCOMES) sum.byOutcome[outcome] += Number(bucket[`r:${outcome}`] ?? 0);
      sum.input += Number(bucket['tokens:input'] ?? 0);
      sum.output += Number(bucket['tokens:output'] ?? 0);
      sum.usd += Number(bucket.usd ?? 0);
      sum.ms += Number(bucket.ms ?? 0);
    }
    members.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
    return {
      replicas: members.length,
      members,
      windowMinutes: RETENTION_HOURS * 60,
      requests: { total: OUTCOMES.reduce((total, o) => total + sum.byOutcome[o], 0), byOutcome: sum.byOutcome },
      tokensSaved: { input: sum.input, output: sum.output },
      usdSaved: sum.usd,
      timeSavedMs: sum.ms,
    };
  }

  /** Last report, then leave the member list (a replica stopped on purpose is not "silent"). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.report();
    await this.#client.hdel(this.#keys.members, this.id).catch(() => undefined);
  }

  #member(): FleetMember {
    const own = this.#own;
    return {
      id: this.id,
      startedAt: new Date(this.#startedAt).toISOString(),
      lastReportAt: new Date(this.#now()).toISOString(),
      requests: { total: OUTCOMES.reduce((t, o) => t + own.byOutcome[o], 0), byOutcome: { ...own.byOutcome } },
      tokensSaved: { input: own.input, output: own.output },
      usdSaved: own.usd,
    };
  }

  /** Pending hours older than the retention are dropped: the view would never read them. */
  #dropExpired(currentHour: number): void {
    for (const hour of this.#pending.keys()) if (hour <= currentHour - RETENTION_HOURS) this.#pending.delete(hour);
  }

  #merge(hour: number, counts: Counts): void {
    const into = this.#pending.get(hour) ?? emptyTally();
    for (const outcome of OUTCOMES) into.byOutcome[outcome] += counts.byOutcome[outcome];
    into.input += counts.input;
    into.output += counts.output;
    into.usd += counts.usd;
    into.ms += counts.ms;
    this.#pending.set(hour, into);
  }
}

function parseMember(json: string): FleetMember | undefined {
  try {
    const member = JSON.parse(json) as FleetMember;
    return typeof member.id === 'string' && typeof member.lastReportAt === 'string' ? member : undefined;
  } catch {
    return undefined;
  }
}
