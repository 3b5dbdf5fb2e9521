import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerResponse, type Http2Session } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import { Duplex } from 'node:stream';

/**
 * HTTP/1.1 and cleartext HTTP/2 on one port. The AWS SDK's default handler speaks HTTP/2 with
 * prior knowledge to an `http://` endpoint, while every other SDK speaks HTTP/1.1; a connection
 * starting with the HTTP/2 preface goes to a node:http2 server, any other to the node:http one.
 * Both hand their requests to the same handler through http2's compatibility API.
 *
 * The node:http server stays the one that listens (its timeouts, connection tracking and
 * shutdown are untouched): only its 'connection' listener is wrapped by the sniffer.
 */

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Http2Acceptor {
  /**
   * Ends every HTTP/2 session and every connection not yet handed to either server (node:http
   * closes its own connections).
   */
  closeSessions(): void;
}

export function acceptCleartextHttp2(
  http1: HttpServer,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Http2Acceptor {
  const h2 = createHttp2Server({}, (req, res) => {
    exposeDestroyed(res);
    // The compatibility API mirrors IncomingMessage / ServerResponse for everything the route
    // handlers use (headers, streaming body, writeHead, write, end, close and finish events).
    handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
  const sessions = new Set<Http2Session>();
  h2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });

  const http1Listeners = http1.listeners('connection') as Array<(socket: Socket) => void>;
  http1.removeAllListeners('connection');
  const toHttp1 = (socket: Socket) => {
    for (const listener of http1Listeners) listener.call(http1, socket);
  };
  const undecided = new Set<Socket>();
  http1.on('connection', (socket: Socket) => {
    undecided.add(socket);
    // A connection that never says which protocol it speaks is held no longer than headers may take.
    const timer = setTimeout(() => socket.destroy(), http1.headersTimeout || 60_000);
    timer.unref();
    const decided = () => {
      clearTimeout(timer);
      undecided.delete(socket);
    };
    socket.once('close', decided);
    sniff(socket, toHttp1, h2, decided);
  });
  return {
    closeSessions: () => {
      for (const session of sessions) session.destroy();
      for (const socket of undecided) socket.destroy();
    },
  };
}

function sniff(socket: Socket, toHttp1: (socket: Socket) => void, h2: NetServer, decided: () => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const http2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    // A prefix of the preface so far: wait for the rest before deciding.
    if (http2 && seen.length < PREFACE.length) return;
    socket.off('data', onData);
    socket.off('error', onEarlyError);
    decided();
    if (http2) {
      // node:http2 reads the socket's handle directly and would never see the bytes already read.
      socket.pause();
      h2.emit('connection', new ReplayingSocket(socket, seen));
      return;
    }
    socket.unshift(seen);
    toHttp1(socket);
  };
  const onEarlyError = () => socket.destroy();
  socket.on('data', onData);
  socket.on('error', onEarlyError);
}

/** A socket whose first bytes were already read: replays them, then passes everything through. */
class ReplayingSocket extends Duplex {
  constructor(
    private readonly socket: Socket,
    head: Buffer,
  ) {
    super();
    this.push(head);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.once('end', () => this.push(null));
    socket.once('error', (err) => this.destroy(err));
    socket.once('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy(error ?? undefined);
    callback(error);
  }
}

/** The handlers stop writing once `res.destroyed`; Http2ServerResponse has no such property. */
function exposeDestroyed(res: Http2ServerResponse): void {
  if (Object.hasOwn(res, 'destroyed')) return;
  Object.defineProperty(res, 'destroyed', {
    get: () => res.stream.destroyed || res.stream.closed,
  });
}
