import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Protocol, RequestInfo, RouteParams } from '../../src/protocols/types.js';
import type { SseEvent, SseEventInit } from '../../src/sse/types.js';

/**
 * Test helpers for protocol tests. They build SseEvent lists directly (not through the real
 * decoder, which is tested on its own) and serve synthesized streams to the official SDKs.
 */

/** Encode events the way a server writes them: `event: X\ndata: Y\n\n`, one `data:` line per line of data. */
export function encodeSse(events: readonly SseEventInit[]): string {
  return events.map(encodeOne).join('');
}

function encodeOne(event: SseEventInit): string {
  const head = event.event !== undefined ? `event: ${event.event}\n` : '';
  const data = event.data
    .split('\n')
    .map((line) => `data: ${line}\n`)
    .join('');
  return `${head}${data}\n`;
}

/** SseEvent objects for the given inits, with byte offsets as if they had been encoded back to back. */
export function toEvents(inits: readonly SseEventInit[]): SseEvent[] {
  let offset = 0;
  return inits.map((init) => {
    const length = Buffer.byteLength(encodeOne(init));
    const event: SseEvent = {
      event: init.event,
      data: init.data,
      id: undefined,
      retry: undefined,
      start: offset,
      end: offset + length,
    };
    offset += length;
    return event;
  });
}

/**
 * Decode a simple LF-framed SSE text (as recorded from a provider): frames split on blank lines,
 * `event:`/`data:` fields, comment lines skipped. A trailing frame without its blank line is
 * dropped, as a real decoder would (it was never dispatched).
 */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let offset = 0;
  const frames = text.split('\n\n');
  for (const [i, frame] of frames.entries()) {
    const length = Buffer.byteLength(frame) + 2;
    const dispatched = i < frames.length - 1;
    const lines = frame.split('\n').filter((line) => line !== '' && !line.startsWith(':'));
    if (dispatched && lines.length > 0) {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of lines) {
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        if (field === 'data') data.push(value);
      }
      if (data.length > 0) {
        events.push({
          event,
          data: data.join('\n'),
          id: undefined,
          retry: undefined,
          start: offset,
          end: offset + length,
        });
      }
    }
    offset += length;
  }
  return events;
}

/** `data: <json>\n\n` frames for each chunk, plus `data: [DONE]` unless told otherwise. */
export function dataStream(chunks: readonly unknown[], done = true): string {
  const frames = chunks.map(
    (chunk) => `data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`,
  );
  return frames.join('') + (done ? 'data: [DONE]\n\n' : '');
}

export interface SseServer {
  /** Base URL including `/v1`, as the OpenAI SDK's `baseURL`. */
  baseURL: string;
  /** Parsed JSON bodies of the requests received, in order. */
  requests: unknown[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** A local server on 127.0.0.1:0 that answers every request with the given SSE text. */
export async function serveSse(body: string): Promise<SseServer> {
  const requests: unknown[] = [];
  const server = createServer((req, res) => {
    readBody(req).then((text) => {
      requests.push(text ? JSON.parse(text) : undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

/** The RequestInfo a protocol builds for a body that must be valid (the test fails loudly otherwise). */
export function validRequest(protocol: Protocol, body: unknown, route?: RouteParams): RequestInfo {
  const check = protocol.validate(body, route);
  if (!check.ok) throw new Error(`expected a valid request, got: ${check.message}`);
  return check.request;
}
