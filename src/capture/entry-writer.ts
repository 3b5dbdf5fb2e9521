import type { CacheEntry } from '../cache/entry.js';

/**
 * The only way an answer becomes an entry (DESIGN.md rule 8), after undici's cache handler: the
 * Flight holds one writer, commits it in finish() once the gate accepted the whole answer, and
 * drops it in abort(). Exactly one of the two happens, once.
 */
export interface EntryWriter {
  /** Store the judged entry; resolves to whether a store kept it. Never rejects. */
  commit(entry: CacheEntry): Promise<boolean>;
  /** The answer will never be stored: `reason` is a stable code (a failure code or a gate reason). */
  drop(reason: string): void;
}

export interface WriteTarget {
  set(key: string, entry: CacheEntry): Promise<boolean>;
}

/** A writer for one key of a (fail-open) store, reporting how it ended. */
export function entryWriter(
  target: WriteTarget,
  key: string,
  onResult: (result: { stored: boolean; reason?: string }) => void,
): EntryWriter {
  let done = false;
  return {
    commit: async (entry) => {
      if (done) return false;
      done = true;
      let stored = false;
      try {
        stored = await target.set(key, entry);
      } catch {
        stored = false;
      }
      onResult(stored ? { stored } : { stored, reason: 'skipped_by_store' });
      return stored;
    },
    drop: (reason) => {
      if (done) return;
      done = true;
      onResult({ stored: false, reason });
    },
  };
}
