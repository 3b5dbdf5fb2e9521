import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { FlightHead, FlightOutcome } from '../../src/capture/flight.js';
import { ClientResponse } from '../../src/gateway/client-response.js';

/**
 * ClientResponse on a real node:http response, read as raw bytes: which chunks of the chunked
 * body the pieces became, and in what order, for pieces, ends and failures in one turn or across turns.
 */

const HEAD: FlightHead = { status: 200, contentType: 'text/event-stream', headers: {} };
const ENDED: FlightOutcome = { kind: 'ended', head: HEAD, verdict: { storable: false, reason: 'test' }, body: undefined };
const RESET: FlightOutcome = {
  kind: 'failed',
  head: HEAD,
  failure: { code: 'upstream_reset', status: 502, message: 'the upstream reset the connection' },
};
const piece = (n: number) => Buffer.from(`data: {"n":${n}}\n\n`);
const turn = () => new Promise((resolve) => setImmediate(resolve));

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Serve one request with `drive`, and return the response's raw body chunks (sizes and bytes) and whether it ended cleanly. */
async function exchange(flushIntervalMs: number, drive: (out: ClientResponse, res: ServerResponse) => Promise<void>) {
  server = createServer((_req, res) => {
    const out = new ClientResponse(res, { family: 'openai', flushIntervalMs, headers: { 'x-test': '1' }, onBytes: () => undefined });
    out.onHead(HEAD);
    void drive(out, res);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
    const got: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => got.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(got)));
    socket.on('error', reject);
  });
  const text = raw.toString('latin1');
  const bodyAt = text.indexOf('\r\n\r\n') + 4;
  const chunks: string[] = [];
  let at = bodyAt;
  let terminated = false;
  while (at < text.length) {
    const eol = text.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(text.slice(at, eol), 16);
    if (size === 0) {
      terminated = text.slice(eol, eol + 4) === '\r\n\r\n';
      break;
    }
    chunks.push(text.slice(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return { head: text.slice(0, bodyAt), chunks, terminated };
}

describe('ClientResponse: the pieces of one turn leave as one write', () => {
  test('pieces in one turn are one chunk; the end in a later turn sends the terminator', async () => {
    const seen = await exchange(0, async (out) => {
      out.onData(piece(1));
      out.onData(piece(2));
      out.onData(piece(3));
      await turn();
      await turn();
      out.onData(piece(4));
      await turn();
      await turn();
      out.onSettled(ENDED);
    });
    expect(seen.head).toMatch(/^HTTP\/1\.1 200/);
    expect(seen.head).toContain('x-test: 1');
    expect(seen.chunks).toEqual([`${piece(1)}${piece(2)}${piece(3)}`, `${piece(4)}`]);
    expect(seen.terminated).toBe(true);
  });

  test('an end in the same turn goes out with the pieces, terminator last', async () => {
    const seen = await exchange(0, async (out) => {
      out.onData(piece(1));
      out.onData(piece(2));
      out.onSettled(ENDED);
    });
    expect(seen.chunks).toEqual([`${piece(1)}${piece(2)}`]);
    expect(seen.terminated).toBe(true);
  });

  test('a failure after bytes went out writes what was gathered, then cuts (no clean end)', async () => {
    const seen = await exchange(0, async (out) => {
      out.onData(piece(1));
      await turn();
      await turn();
      out.onData(piece(2));
      out.onSettled(RESET);
    });
    expect(seen.chunks).toEqual([`${piece(1)}`, `${piece(2)}`]);
    expect(seen.terminated).toBe(false);
  });

  test('with flushIntervalMs, pieces of several turns wait and leave together', async () => {
    const seen = await exchange(30, async (out) => {
      out.onData(piece(1));
      await turn();
      out.onData(piece(2));
      await new Promise((resolve) => setTimeout(resolve, 80));
      out.onData(piece(3));
      out.onSettled(ENDED);
    });
    expect(seen.chunks).toEqual([`${piece(1)}${piece(2)}`, `${piece(3)}`]);
    expect(seen.terminated).toBe(true);
  });

  test('a client gone before the flush: nothing is written to the destroyed response, nothing thrown', async () => {
    let writes = 0;
    await exchange(0, async (out, res) => {
      const write = res.write.bind(res);
      res.write = ((...args: Parameters<typeof res.write>) => {
        writes++;
        return write(...args);
      }) as typeof res.write;
      out.onData(piece(1));
      res.destroy();
      await turn();
      await turn();
      out.onSettled({ kind: 'failed', head: HEAD, failure: { code: 'client_disconnect', status: 499, message: 'gone' } });
    });
    expect(writes).toBe(0);
  });
});
