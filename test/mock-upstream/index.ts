import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isRecord, type JsonRecord, requestHash } from './answer.js';
import { anthropicMessages } from './anthropic-messages.js';
import { handleBedrock } from './bedrock.js';
import { ClientWatch } from './client-watch.js';
import { errorBody } from './errors.js';
import { handleGemini, isGeminiPath } from './gemini.js';
import { writeJson } from './json-writer.js';
import { KnobError, type Knobs, parseKnobs } from './knobs.js';
import { modelsList } from './models.js';
import { openaiChat } from './openai-chat.js';
import { openaiCompletions } from './openai-completions.js';
import { openaiEmbeddings } from './openai-embeddings.js';
import { openaiResponses } from './openai-responses.js';
import { type ErrorShape, type MockProtocol, MockRequestError, type SseEvent, sse } from './protocol.js';
import { encodeEvent, writeStream } from './sse-writer.js';

/**
 * A realistic local stand-in for api.openai.com and api.anthropic.com: the official SDKs
 * parse everything it sends, answers are deterministic per request body, and request
 * headers (`x-mock-*`, documented in knobs.ts) make it misbehave in the ways real
 * upstreams do. Used by gateway and cache tests and by benchmarks (see cli.ts).
 */

export interface MockStats {
  requests: number;
  byPath: Record<string, number>;
  /** SSE events the socket accepted. */
  chunksWritten: number;
  /** Streams (and hung responses) the client left before they ended. */
  abortedStreams: number;
  /** Streams whose HTTP response ended cleanly (including knob-truncated ones). */
  completedStreams: number;
  /** Body bytes of GET /v1/files/{id}/content the socket accepted, and downloads written to the end. */
  fileBytesWritten: number;
  completedDownloads: number;
  lastRequest?: { path: string; url: string; headers: Record<string, string | string[] | undefined>; body: unknown };
}

export interface MockUpstream {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + '/v1': what the OpenAI SDK takes as baseURL. */
  openaiBaseURL: string;
  /** url: the Anthropic SDK appends /v1/messages itself. */
  anthropicBaseURL: string;
  /** url: Bedrock Runtime's endpoint (routes /model/{modelId}/...), see bedrock.ts. */
  bedrockURL: string;
  /** url: Gemini's endpoint, as @google/genai's httpOptions.baseUrl (routes /v1beta/models/...), see gemini.ts. */
  geminiBaseURL: string;
  stats: MockStats;
  resetStats(): void;
  /**
   * Knob headers (knobs.ts) applied to every request that does not send them itself, for clients
   * that send no x-mock-* headers (an embedder, a health probe): `{ 'x-mock-status': '503' }`.
   * Replaces the previous set; `{}` clears it.
   */
  setDefaultKnobs(headers: Record<string, string>): void;
  /** Stops listening and destroys open sockets (hung and endless streams included). */
  close(): Promise<void>;
}

export interface MockUpstreamOptions {
  /** Pause between chunks when a request has no x-mock-delay-ms header. Default 0. */
  defaultDelayMs?: number;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Mixed into every answer of the OpenAI and Anthropic routes: two mocks with different salts are
   * two different model servers (the same prompt gets different answers). Default none.
   */
  answerSalt?: string;
}

const ROUTES: Record<string, MockProtocol> = {
  '/v1/chat/completions': openaiChat,
  '/v1/completions': openaiCompletions,
  '/v1/responses': openaiResponses,
  '/v1/embeddings': openaiEmbeddings,
  '/v1/messages': anthropicMessages,
};

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const defaults = { delayMs: options.defaultDelayMs ?? 0, salt: options.answerSalt ?? '', knobs: {} as Record<string, string> };
  const stats = emptyStats();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    handle(req, res, stats, defaults).catch((error: unknown) => {
      // A bug in the mock must fail the test loudly, not hang it.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(errorBody('openai', 500, 'mock', `mock upstream crashed: ${String(error)}`)));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1', backlog: 4096 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: url,
    bedrockURL: url,
    geminiBaseURL: url,
    stats,
    resetStats() {
      Object.assign(stats, emptyStats());
      delete stats.lastRequest;
    },
    setDefaultKnobs(headers) {
      defaults.knobs = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function emptyStats(): MockStats {
  return { requests: 0, byPath: {}, chunksWritten: 0, abortedStreams: 0, completedStreams: 0, fileBytesWritten: 0, completedDownloads: 0 };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  stats: MockStats,
  defaults: { delayMs: number; salt: string; knobs: Record<string, string> },
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const requestNumber = ++stats.requests;
  stats.byPath[path] = (stats.byPath[path] ?? 0) + 1;
  const protocol = ROUTES[path];
  const shape: ErrorShape = protocol?.errorShape ?? 'openai';
  const requestId = `req_${requestNumber.toString(16).padStart(24, '0')}`;
  res.setHeader('x-mock-request-count', String(requestNumber));
  res.setHeader(shape === 'anthropic' ? 'request-id' : 'x-request-id', requestId);
  const fail = (status: number, message?: string, param: string | null = null): void => {
    sendJson(res, status, errorBody(shape, status, requestId, message, param));
  };

  const raw = await readBody(req);
  const body = raw === undefined ? undefined : parseJson(raw);
  stats.lastRequest = { path, url: req.url ?? '/', headers: { ...req.headers }, body };
  if (raw === undefined) return fail(413, `Request body exceeds ${MAX_BODY_BYTES} bytes (mock).`);

  let knobs: Knobs;
  try {
    knobs = parseKnobs({ ...defaults.knobs, ...req.headers }, defaults);
  } catch (error) {
    if (error instanceof KnobError) return fail(400, error.message, error.header);
    throw error;
  }

  const watch = new ClientWatch(res);
  if (knobs.firstByteDelayMs > 0 && !(await watch.sleep(knobs.firstByteDelayMs))) return;

  if (path.startsWith('/model/')) {
    return handleBedrock(req, res, Buffer.from(raw, 'utf8'), knobs, requestNumber, watch, (count) => {
      stats.chunksWritten += count;
    }, () => {
      stats.abortedStreams++;
    });
  }

  if (isGeminiPath(path)) {
    let selfReset = false;
    res.on('finish', () => stats.completedStreams++);
    res.on('close', () => {
      if (!res.writableFinished && !selfReset && res.headersSent) stats.abortedStreams++;
    });
    return handleGemini(req, res, raw, knobs, requestNumber, watch, {
      eventsWritten: (count) => {
        stats.chunksWritten += count;
      },
      willReset: () => {
        selfReset = true;
      },
    });
  }

  // Before routing, so pass-through routes (models) can be made to fail too.
  if (knobs.status !== undefined && knobs.status >= 300) return fail(knobs.status);
  if (req.method === 'GET' && path.startsWith('/v1/models')) {
    const listing = modelsList(path, req.headers['anthropic-version'] !== undefined);
    return listing
      ? sendJson(res, 200, listing)
      : fail(404, `The model '${path.slice(11)}' does not exist (mock).`);
  }
  if (req.method === 'GET' && /^\/v1\/files\/[^/]+\/content$/.test(path)) return sendFileContent(req, res, stats);
  if (!protocol) return fail(404, `Unknown request URL: ${req.method} ${path} (mock).`);
  if (req.method !== 'POST') return fail(405, `Method ${req.method} not allowed on ${path} (mock).`);
  if (!isRecord(body)) return fail(400, 'We could not parse the JSON body of your request (mock).');

  const wantsStream = body.stream === true;
  const countStream = (): void => {
    res.on('finish', () => stats.completedStreams++);
    res.on('close', () => {
      if (!res.writableFinished && !selfReset) stats.abortedStreams++;
    });
  };
  let selfReset = false;

  if (knobs.hang) {
    countStream();
    res.writeHead(200, wantsStream ? SSE_HEADERS : { 'content-type': 'application/json' });
    res.flushHeaders();
    return;
  }

  const hash = requestHash(body, defaults.salt + (knobs.unique ? `#${requestNumber}` : ''));
  let reply: ReturnType<MockProtocol['reply']>;
  try {
    reply = protocol.reply({ body, knobs, hash, stream: wantsStream || knobs.errorAsSse });
  } catch (error) {
    if (error instanceof MockRequestError) return fail(error.status, error.message, error.param);
    throw error;
  }
  const status = knobs.status ?? 200;

  if (knobs.errorAsSse) {
    const events: SseEvent[] =
      reply.kind === 'stream'
        ? reply.plan.errorEvents(0).slice(0, 1)
        : [sse(errorBody(shape, 500, requestId))];
    countStream();
    res.writeHead(200, SSE_HEADERS);
    res.end(events.map((e) => encodeEvent(e, knobs.lineEnding)).join(''));
    stats.chunksWritten += events.length;
    return;
  }

  if (reply.kind === 'json') {
    await writeJson(res, status, reply.body, reply.contentChunks, knobs, watch, () => {
      selfReset = true;
    });
    return;
  }

  countStream();
  res.writeHead(status, SSE_HEADERS);
  await writeStream(
    res,
    reply.plan,
    knobs,
    {
      eventsWritten: (count) => {
        stats.chunksWritten += count;
      },
      willReset: () => {
        selfReset = true;
      },
    },
    watch,
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body as text, or undefined past MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as JsonRecord;
  } catch {
    return text;
  }
}

/**
 * GET /v1/files/{id}/content: a download of x-mock-bytes bytes (default 1024), written in 64 KiB
 * pieces as fast as the socket takes them and no faster (each write waits for 'drain'), so a
 * reader that stops reading stops the download: what a pass-through must let happen.
 */
async function sendFileContent(req: IncomingMessage, res: ServerResponse, stats: MockStats): Promise<void> {
  const total = Number(req.headers['x-mock-bytes'] ?? 1024);
  if (!Number.isSafeInteger(total) || total < 0) {
    sendJson(res, 400, errorBody('openai', 400, 'mock', 'x-mock-bytes must be a whole number of bytes (mock).', null));
    return;
  }
  const piece = Buffer.alloc(64 * 1024, 0x61);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  let sent = 0;
  while (sent < total && !res.destroyed) {
    const size = Math.min(piece.length, total - sent);
    const more = res.write(size === piece.length ? piece : piece.subarray(0, size));
    sent += size;
    stats.fileBytesWritten += size;
    if (!more) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done).off('close', done);
          resolve();
        };
        res.on('drain', done).on('close', done);
      });
    }
  }
  if (res.destroyed) return;
  res.end(() => stats.completedDownloads++);
}
