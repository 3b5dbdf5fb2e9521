import type { Server } from 'node:http';

/**
 * Graceful shutdown (DESIGN.md: "shutdown drain"). On the first signal the gateway drains: the
 * listener stays open so that load balancers read `/healthz` → 503 and stop sending, every new
 * request is refused with 503 and `connection: close`, answers already in flight run to their end
 * for up to the grace period, pending L2 writes are awaited, and only then is whatever is left cut.
 * A cut answer is an aborted flight, and an aborted flight is never stored.
 */
export class Lifecycle {
  #draining = false;
  #inFlight = 0;
  #idle: Array<() => void> = [];
  readonly #writes = new Set<Promise<unknown>>();

  get draining(): boolean {
    return this.#draining;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** A request arrived; `closed()` when its response closed (finished or cut). */
  opened(): void {
    this.#inFlight++;
  }

  closed(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  /** An L2 write that must be flushed before the process exits. */
  trackWrite(write: Promise<unknown>): void {
    const settled = write.then(
      () => undefined,
      () => undefined,
    );
    this.#writes.add(settled);
    void settled.then(() => this.#writes.delete(settled));
  }

  startDraining(): void {
    this.#draining = true;
  }

  /** Resolves when no request is in flight, or after `ms`; true when it went idle. */
  whenIdle(ms: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idle = this.#idle.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      timer.unref();
      this.#idle.push(wake);
    });
  }

  /** Resolves when every tracked write settled, or after `ms`. */
  async writesFlushed(ms: number): Promise<void> {
    if (this.#writes.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#writes]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }
}

/** Longest wait for pending L2 writes once the answers are done (they are bounded by the Redis timeout anyway). */
const WRITE_FLUSH_MS = 5000;

export interface DrainResult {
  /** Requests still running when the grace period ended, and cut. */
  cut: number;
}

/** Drain, flush, then stop listening and cut what is left. */
export async function drainServer(server: Server, lifecycle: Lifecycle, graceMs: number): Promise<DrainResult> {
  lifecycle.startDraining();
  // Idle keep-alive connections would otherwise carry new requests; busy ones get `connection: close`.
  server.closeIdleConnections();
  const idle = await lifecycle.whenIdle(graceMs);
  const cut = idle ? 0 : lifecycle.inFlight;
  await lifecycle.writesFlushed(WRITE_FLUSH_MS);
  await stopServer(server);
  return { cut };
}

/** Stop listening and destroy every connection, idle or busy. */
export function stopServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
