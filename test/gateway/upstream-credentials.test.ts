import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_CREDENTIAL_SOURCES } from '../../src/cache/credentials.js';
import { geminiPath } from '../gemini/helpers.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { type Harness, startHarness } from './harness.js';

/**
 * An upstream configured with its own key (default or named) never receives a client's
 * credential, from any configured credential source (cache.credentialSources: the defaults and
 * the operator's own), in a header or in the query string, on a cached route or a pass-through.
 * Without a configured key the client's credentials go through unchanged (the upstream needs them).
 */

const SECRET = 'client-secret-must-not-leave-6f2a';
const SOURCES = [...DEFAULT_CREDENTIAL_SOURCES, 'x-tenant-token', 'query:token'];

let named: MockUpstream;
let keyed: Harness;
let open: Harness;

beforeAll(async () => {
  named = await startMockUpstream();
  keyed = await startHarness({
    upstreamApiKey: 'sk-configured-openai',
    anthropicApiKey: 'sk-ant-configured',
    geminiApiKey: 'AIza-configured',
    cache: { credentialSources: SOURCES },
    upstreams: { groq: { url: named.openaiBaseURL, protocol: 'openai', apiKey: 'gsk-configured' } },
  });
  open = await startHarness({ cache: { credentialSources: SOURCES } });
});
afterAll(async () => {
  await keyed.close();
  await open.close();
  await named.close();
});

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'credentials' }] };
const messages = { model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'credentials' }] };
const gemini = { contents: [{ role: 'user', parts: [{ text: 'credentials' }] }] };

/** Each place a request can go, and which mock receives it. */
const TARGETS: Array<{ label: string; method: 'GET' | 'POST'; path: string; body?: unknown; mock: () => MockUpstream }> = [
  { label: 'default OpenAI (cached)', method: 'POST', path: '/v1/chat/completions', body: chat, mock: () => keyed.mock },
  { label: 'default Anthropic (cached)', method: 'POST', path: '/v1/messages', body: messages, mock: () => keyed.mock },
  { label: 'default Gemini (cached)', method: 'POST', path: geminiPath('generateContent'), body: gemini, mock: () => keyed.mock },
  { label: 'default OpenAI (pass-through)', method: 'GET', path: '/v1/models', mock: () => keyed.mock },
  { label: 'named upstream (cached)', method: 'POST', path: '/groq/v1/chat/completions', body: chat, mock: () => named },
  { label: 'named upstream (pass-through)', method: 'GET', path: '/groq/v1/models', mock: () => named },
];

/** A request carrying SECRET in one source only, plus a salt so that every request is a miss. */
function request(base: string, target: (typeof TARGETS)[number], source: string, salt: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-sluice-cache': 'off' };
  let search = `?salt=${salt}`;
  if (source.startsWith('query:')) search += `&${source.slice('query:'.length)}=${SECRET}`;
  else headers[source] = source === 'authorization' ? `Bearer ${SECRET}` : SECRET;
  return fetch(`${base}${target.path}${search}`, {
    method: target.method,
    headers,
    body: target.body === undefined ? undefined : JSON.stringify(target.body),
  }).then((res) => res.text());
}

function sent(mock: MockUpstream): string {
  const last = mock.stats.lastRequest;
  return JSON.stringify({ url: last?.url, headers: last?.headers });
}

describe('an upstream with its own key', () => {
  for (const source of SOURCES) {
    test(`gets no client credential from ${source}`, async () => {
      let n = 0;
      for (const target of TARGETS) {
        target.mock().resetStats();
        await request(keyed.url, target, source, `${source}-${n++}`);
        const seen = sent(target.mock());
        expect(target.mock().stats.lastRequest, target.label).toBeDefined();
        expect(seen, `${target.label}: ${seen}`).not.toContain(SECRET);
        // The rest of the query string still goes through.
        expect(target.mock().stats.lastRequest?.url, target.label).toContain('salt=');
      }
    });
  }
});

test('an upstream without its own key gets the client credentials as sent', async () => {
  for (const source of ['api-key', 'x-tenant-token', 'query:token']) {
    const target = TARGETS[0] as (typeof TARGETS)[number];
    open.mock.resetStats();
    await request(open.url, target, source, source);
    expect(sent(open.mock)).toContain(SECRET);
  }
});
