import type { ReplayPacing } from '../config.js';

/** Delay before each replayed chunk: none for instant, recorded gaps for realtime, even gaps for N/s. */
export function replayDelays(pacing: ReplayPacing, recordedTimes: readonly number[]): number[] {
  if (pacing === 'instant') return recordedTimes.map(() => 0);
  if (pacing === 'realtime') {
    return recordedTimes.map((t, i) => (i === 0 ? 0 : Math.max(0, t - (recordedTimes[i - 1] ?? 0))));
  }
  const gap = 1000 / pacing;
  return recordedTimes.map((_, i) => (i === 0 ? 0 : gap));
}

/** Resolves after `ms`, or at once (without throwing) when the signal aborts; the caller checks it. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
