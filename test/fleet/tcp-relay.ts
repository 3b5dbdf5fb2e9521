import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP relay in front of a server (Redis), to cut one process off it the way a network
 * partition does, while every other process keeps talking to the server directly.
 *
 * - `cut()`: every open connection is destroyed (RST-like, no goodbye) and new ones are
 *   accepted and dropped at once, so the client sees a dead link and reconnects in vain.
 * - `stall()`: connections stay open but nothing is forwarded either way (a black hole:
 *   commands time out instead of failing fast).
 * - `restore()`: back to forwarding; clients that reconnect get through.
 */
export interface TcpRelay {
  /** The port to point the client at (127.0.0.1). */
  port: number;
  /** Connections accepted so far (a reconnect shows as a new one). */
  readonly connections: number;
  cut(): void;
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

type RelayState = 'open' | 'cut' | 'stalled';

export async function startTcpRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
  let state: RelayState = 'open';
  let connections = 0;
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const server: Server = createServer((client) => {
    connections++;
    if (state === 'cut') {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    // Forward by hand rather than pipe(), so that a stall can hold bytes back without ending either side.
    client.on('data', (chunk: Buffer) => {
      if (state === 'open') upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (state === 'open') client.write(chunk);
    });
    upstream.connect(targetPort, targetHost);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const destroyAll = () => {
    for (const pair of pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    get connections() {
      return connections;
    },
    cut() {
      state = 'cut';
      destroyAll();
    },
    stall() {
      state = 'stalled';
    },
    restore() {
      // A stall dropped bytes mid-protocol: those links are garbage now, as after a real partition.
      if (state === 'stalled') destroyAll();
      state = 'open';
    },
    close: () =>
      new Promise<void>((resolve) => {
        destroyAll();
        server.close(() => resolve());
      }),
  };
}
