import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { boundedDestination, createLogger } from '../../src/gateway/logger.js';
import { createGateway } from '../../src/gateway/server.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { stalledFifo } from '../helpers/stalled-fifo.js';
import { chatBody, eventually, sleep } from './harness.js';

/**
 * The access log (issue 24): one line per request, built from the outcome record only, so it needs
 * no redaction pass; written to a bounded asynchronous destination that drops and counts lines
 * when its sink stalls instead of holding them without bound.
 */

/** The fields of an access line, as the README lists them: nothing else may appear. */
const ACCESS_FIELDS = [
  'level',
  'time',
  'service',
  'access',
  'requestId',
  'method',
  'route',
  'status',
  'cache',
  'bytes',
  'durationMs',
  'model',
  'upstream',
  'namespace',
  'key',
  'completed',
  'msg',
];

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => mock.close());

describe('access lines carry no header, query string or body', () => {
  test('whatever a request carries, its line has the listed fields only, with none of it', async () => {
    let raw = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        raw += chunk.toString();
        done();
      },
    });
    const gateway = createGateway(
      parseConfig({ port: 0, upstream: mock.openaiBaseURL, anthropicUpstream: mock.anthropicBaseURL }),
      { logger: createLogger('info', sink) },
    );
    const url = await gateway.listen();
    const planted = {
      header: 'PLANTED-header-value-3a1',
      auth: 'sk-PLANTED-auth-77b',
      query: 'PLANTED-query-value-91c',
      prompt: 'PLANTED prompt text 5d2',
    };
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${planted.auth}`,
      'x-custom-header': planted.header,
      'user-agent': planted.header,
    };
    try {
      const body = JSON.stringify(chatBody(planted.prompt));
      // A miss, a hit, a pass-through with a query string, a refusal, a 404, a health check.
      for (let i = 0; i < 2; i++) {
        await (await fetch(`${url}/v1/chat/completions?q=${planted.query}`, { method: 'POST', headers, body })).text();
        await sleep(20);
      }
      await (await fetch(`${url}/v1/models?key=${planted.query}`, { headers })).text();
      await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: `{"x":"${planted.prompt}"` })).text();
      await (await fetch(`${url}/nowhere/${'x'}?key=${planted.query}`, { headers })).text();
      await (await fetch(`${url}/healthz?key=${planted.query}`, { headers })).text();
      await eventually(() => raw.split('\n').filter((l) => l.includes('"access":true')).length === 6);
      const access = raw
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.access === true);
      expect(access.map((l) => l.cache)).toEqual(['MISS', 'HIT', 'BYPASS', 'NONE', null, null]);
      for (const line of access) {
        expect(Object.keys(line)).toEqual(ACCESS_FIELDS);
        for (const value of Object.values(line)) expect(['string', 'number', 'boolean'].includes(typeof value) || value === null).toBe(true);
        expect(String(line.route)).not.toContain('?');
      }
      // Nothing was redacted because nothing secret was there to redact.
      for (const secret of [...Object.values(planted), '[redacted]']) expect(raw).not.toContain(secret);
    } finally {
      await gateway.close();
    }
  });
});

describe('a stalled log destination', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('drops and counts lines past its bound, warns once, and writes the rest when the sink reads again', async () => {
    const fifo = stalledFifo(dir, 'log.fifo');
    const bound = 8 * 1024;
    const destination = boundedDestination(fifo.path, bound);
    const gateway = createGateway(
      parseConfig({ port: 0, upstream: mock.openaiBaseURL, anthropicUpstream: mock.anthropicBaseURL }),
      { logger: createLogger('info', destination) },
    );
    const url = await gateway.listen();
    const requests = 120;
    try {
      for (let i = 0; i < requests; i++) await (await fetch(`${url}/healthz`)).text();
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const dropped = Number(/^sluice_log_lines_dropped_total (\S+)$/m.exec(metrics)?.[1]);
      // About 200 bytes a line against an 8 KiB bound: most of the 120 lines could not wait.
      expect(dropped).toBeGreaterThan(50);
      expect(dropped).toBeLessThan(requests);
      // The sink reads again: what was kept is written, and one warning says how many were dropped.
      await eventually(() => fifo.drain().includes('log destination stalled'), 10_000);
      await sleep(300);
      const lines = fifo
        .drain()
        .slice(fifo.prefilled)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const access = lines.filter((l) => l.access === true);
      const warnings = lines.filter((l) => String(l.msg).startsWith('log destination stalled'));
      expect(warnings).toHaveLength(1);
      expect(access.length).toBeGreaterThan(0);
      // Every access line was either written or counted as dropped (the /metrics scrape's own line is after the count).
      expect(access.filter((l) => l.route === '/healthz').length + dropped).toBe(requests);
    } finally {
      fifo.drain();
      await gateway.close();
      fifo.drain();
      fifo.close();
    }
  }, 30_000);
});
