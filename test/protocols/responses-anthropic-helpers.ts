import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonObject, JsonValue, RequestInfo } from '../../src/protocols/types.js';
import type { SseEvent, SseEventInit } from '../../src/sse/types.js';

/**
 * Test helpers for the Responses and Anthropic protocol tests. They build SseEvent lists without
 * the real SSE decoder (written elsewhere) so these tests exercise the protocols alone.
 */

/** `event: X\ndata: Y\n\n` framing, one `data:` line per line of data, as the APIs send it. */
export function encodeSse(events: readonly SseEventInit[]): string {
  return events.map(encodeOne).join('');
}

function encodeOne(event: SseEventInit): string {
  const name = event.event === undefined ? '' : `event: ${event.event}\n`;
  const data = event.data
    .split('\n')
    .map((line) => `data: ${line}\n`)
    .join('');
  return `${name}${data}\n`;
}

/** SseEvents as a decoder would produce them from `encodeSse(events)`, with matching byte offsets. */
export function toSseEvents(events: readonly SseEventInit[]): SseEvent[] {
  let offset = 0;
  return events.map((event) => {
    const length = Buffer.byteLength(encodeOne(event));
    const out: SseEvent = {
      event: event.event,
      data: event.data,
      id: event.id,
      retry: event.retry,
      start: offset,
      end: offset + length,
    };
    offset += length;
    return out;
  });
}

/**
 * Parse a hand-written recorded stream (LF framing, `event:` and `data:` fields only) into
 * SseEvents. Deliberately minimal: fixtures are written in the exact framing the APIs use.
 */
export function parseRecorded(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let offset = 0;
  for (const frame of text.split('\n\n')) {
    const length = Buffer.byteLength(frame) + 2;
    const lines = frame.split('\n').filter((line) => line !== '');
    if (lines.length > 0) {
      const name = lines
        .find((line) => line.startsWith('event:'))
        ?.slice(6)
        .trim();
      const data = lines
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      events.push({
        event: name,
        data,
        id: undefined,
        retry: undefined,
        start: offset,
        end: offset + length,
      });
    }
    offset += length;
  }
  return events;
}

/** Build an SSE fixture from `[event name, payload]` pairs, in the APIs' exact framing. */
export function recording(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  return encodeSse(pairs.map(([event, data]) => ({ event, data: JSON.stringify(data) })));
}

export function requestInfo(body: JsonObject, stream = true): RequestInfo {
  const model = typeof body.model === 'string' ? body.model : '';
  return { body, model, stream, wantsStreamUsage: false };
}

export function parseData(event: SseEventInit): JsonObject {
  return JSON.parse(event.data) as JsonObject;
}

/** A JSON round trip: drops undefined fields and non-enumerable SDK helpers, as the wire would. */
export function plain(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

export interface SseServer {
  baseURL: string;
  /** JSON bodies of the requests the server received. */
  requests: JsonObject[];
  close(): Promise<void>;
}

/** A local server that answers every POST with `body` as `text/event-stream`. */
export async function serveSse(body: string, basePath = ''): Promise<SseServer> {
  const requests: JsonObject[] = [];
  const server = createServer((req, res) => {
    readBody(req).then((text) => {
      requests.push(JSON.parse(text) as JsonObject);
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}${basePath}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
