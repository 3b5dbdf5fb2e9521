import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Harness } from '../gateway/harness.js';
import { MOCK_AWS_CREDENTIALS } from '../mock-upstream/bedrock-auth.js';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import {
  bedrockClient,
  bedrockPath,
  converse,
  converseInput,
  MODEL,
  settle,
  startBedrockHarness,
} from './helpers.js';

/**
 * The tenant model for Bedrock (README "Bedrock"): Bearer keys are hashed into the scope; SigV4
 * access key ids are public and never separate tenants by themselves; configured client key pairs
 * are verified and each gets its own scope. Also: how each kind of client is authorized upstream,
 * and Bedrock-shaped errors for bad input.
 */

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMockUpstream();
});
afterAll(async () => mock.close());

const TENANT_A = { accessKeyId: 'AKIATENANTAAAAAAAAAA', secretAccessKey: 'tenant-a-secret-key-0001' };
const TENANT_B = { accessKeyId: 'AKIATENANTBBBBBBBBBB', secretAccessKey: 'tenant-b-secret-key-0002' };

async function post(h: Harness, path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mock-unique': '1', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    headers: res.headers,
    cache: res.headers.get('x-sluice-cache'),
    text: await res.text(),
  };
}

const CONVERSE = bedrockPath(MODEL, 'converse');
const body = (text: string) => ({ messages: [{ role: 'user', content: [{ text }] }] });

describe('Bearer keys (Bedrock API keys)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBedrockHarness({}, mock);
  });
  afterAll(async () => h.gateway.close());

  test('are forwarded as is, and two keys never share an entry', async () => {
    const b = body('bearer isolation');
    const a1 = await post(h, CONVERSE, b, { authorization: 'Bearer key-tenant-a' });
    expect(a1.status).toBe(200);
    expect(mock.stats.lastRequest?.headers.authorization).toBe('Bearer key-tenant-a');
    await settle();
    const a2 = await post(h, CONVERSE, b, { authorization: 'Bearer key-tenant-a' });
    expect(a2.cache).toBe('HIT');
    const other = await post(h, CONVERSE, b, { authorization: 'Bearer key-tenant-b' });
    expect(other.cache).toBe('MISS');
    expect(other.text).not.toBe(a1.text);
  });
});

describe('SigV4 clients with no client key pairs configured', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBedrockHarness({}, mock);
  });
  afterAll(async () => h.gateway.close());

  test("are re-signed with Sluice's credentials (the mock verifies the signature)", async () => {
    const sdk = bedrockClient({
      endpoint: h.url,
      handler: 'http1',
      credentials: TENANT_A,
      headers: { 'x-mock-unique': '1' },
    });
    try {
      await converse(sdk.client, converseInput('re-signed'));
      const auth = String(mock.stats.lastRequest?.headers.authorization);
      expect(auth).toContain(`Credential=${MOCK_AWS_CREDENTIALS.accessKeyId}/`);
      expect(auth).not.toContain(TENANT_A.accessKeyId);
    } finally {
      sdk.destroy();
    }
  });

  test('share one scope, whatever access key id they present (as the README states)', async () => {
    const input = converseInput('shared sigv4 scope');
    const a = bedrockClient({ endpoint: h.url, credentials: TENANT_A, headers: { 'x-mock-unique': '1' } });
    const b = bedrockClient({ endpoint: h.url, credentials: TENANT_B, headers: { 'x-mock-unique': '1' } });
    try {
      const first = await converse(a.client, input);
      await settle();
      const second = await converse(b.client, input);
      expect(b.last()['x-sluice-cache']).toBe('HIT');
      expect(second).toEqual(first);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  test('are never in the scope of a Bearer key', async () => {
    const b = body('bearer vs sigv4');
    await post(h, CONVERSE, b, { authorization: 'Bearer key-tenant-a' });
    await settle();
    const sdk = bedrockClient({ endpoint: h.url, credentials: TENANT_A, headers: { 'x-mock-unique': '1' } });
    try {
      await sdk.client.send(new ConverseCommand({ modelId: MODEL, messages: b.messages as never }));
      expect(sdk.last()['x-sluice-cache']).toBe('MISS');
    } finally {
      sdk.destroy();
    }
  });
});

describe('SigV4 clients with configured key pairs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBedrockHarness({ bedrock: { clients: [TENANT_A, TENANT_B] } }, mock);
  });
  afterAll(async () => h.gateway.close());

  test('each verified client has its own scope', async () => {
    const input = converseInput('verified scopes');
    const a = bedrockClient({ endpoint: h.url, credentials: TENANT_A, headers: { 'x-mock-unique': '1' } });
    const b = bedrockClient({ endpoint: h.url, credentials: TENANT_B, headers: { 'x-mock-unique': '1' } });
    try {
      const first = await converse(a.client, input);
      await settle();
      await converse(a.client, input);
      expect(a.last()['x-sluice-cache']).toBe('HIT');
      // The same tenant over HTTP/1.1 (host signed instead of :authority) is verified into the same scope.
      const a1 = bedrockClient({ endpoint: h.url, handler: 'http1', credentials: TENANT_A });
      try {
        await converse(a1.client, input);
        expect(a1.last()['x-sluice-cache']).toBe('HIT');
      } finally {
        a1.destroy();
      }
      const other = await converse(b.client, input);
      expect(b.last()['x-sluice-cache']).toBe('MISS');
      expect(other.text).not.toBe(first.text);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  test("presenting another tenant's access key id without its secret reads nothing: 403", async () => {
    const input = converseInput('stolen key id');
    const owner = bedrockClient({
      endpoint: h.url,
      credentials: TENANT_A,
      headers: { 'x-mock-unique': '1' },
    });
    const thief = bedrockClient({
      endpoint: h.url,
      credentials: { accessKeyId: TENANT_A.accessKeyId, secretAccessKey: 'guessed-secret' },
    });
    try {
      await converse(owner.client, input);
      await settle();
      const calls = mock.stats.requests;
      await expect(thief.client.send(new ConverseCommand(input))).rejects.toMatchObject({
        name: 'InvalidSignatureException',
        $metadata: { httpStatusCode: 403 },
      });
      expect(mock.stats.requests).toBe(calls);
    } finally {
      owner.destroy();
      thief.destroy();
    }
  });

  test('an unknown access key id is refused, and so is an unsigned request', async () => {
    const stranger = bedrockClient({
      endpoint: h.url,
      credentials: { accessKeyId: 'AKIASTRANGER00000000', secretAccessKey: 'whatever' },
    });
    try {
      await expect(
        stranger.client.send(new ConverseCommand(converseInput('stranger'))),
      ).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
      });
    } finally {
      stranger.destroy();
    }
    const unsigned = await post(h, CONVERSE, body('unsigned'), {});
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(JSON.parse(unsigned.text)).toEqual({ message: expect.any(String) });
  });
});

describe('upstream signature', () => {
  test('a wrong Sluice secret is answered 403 by the mock (as AWS would), and not stored', async () => {
    const h = await startBedrockHarness({ bedrock: { secretAccessKey: 'not-the-mock-secret' } }, mock);
    const sdk = bedrockClient({ endpoint: h.url, credentials: TENANT_A });
    try {
      await expect(
        sdk.client.send(new ConverseCommand(converseInput('wrong upstream secret'))),
      ).rejects.toMatchObject({
        name: 'InvalidSignatureException',
        $metadata: { httpStatusCode: 403 },
      });
      await settle();
      await expect(
        sdk.client.send(new ConverseCommand(converseInput('wrong upstream secret'))),
      ).rejects.toMatchObject({
        name: 'InvalidSignatureException',
      });
      expect(sdk.last()['x-sluice-cache']).toBe('MISS');
    } finally {
      sdk.destroy();
      await h.gateway.close();
    }
  });

  test('without Sluice credentials a SigV4 client gets a Bedrock-shaped 403 that says what to configure', async () => {
    const h = await startBedrockHarness({}, mock);
    await h.gateway.close();
    const bare = await (await import('../gateway/harness.js')).startHarness({}, mock);
    const sdk = bedrockClient({ endpoint: bare.url, credentials: TENANT_A });
    try {
      await expect(sdk.client.send(new ConverseCommand(converseInput('no creds')))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining('bedrock.accessKeyId'),
      });
    } finally {
      sdk.destroy();
      await bare.gateway.close();
    }
  });
});

describe('bad input gets a Bedrock-shaped error', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startBedrockHarness({}, mock);
  });
  afterAll(async () => h.gateway.close());

  const bearer = { authorization: 'Bearer key-bad-input' };

  test('an unknown route shape under /model/', async () => {
    for (const path of [`/model/${MODEL}/converse-please`, '/model/converse', `/model/a/b/converse`]) {
      const res = await post(h, path, body('x'), bearer);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
      expect(JSON.parse(res.text)).toEqual({ message: expect.stringContaining('/converse') });
    }
  });

  test('a body that is not JSON, or not an object', async () => {
    const notJson = await post(h, CONVERSE, '{"messages": [', bearer);
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(Object.keys(JSON.parse(notJson.text))).toEqual(['message']);
    const array = await post(h, CONVERSE, '[1,2]', bearer);
    expect(array.status).toBe(400);
    expect(array.headers.get('x-amzn-errortype')).toBe('ValidationException');
    const badEscape = await post(h, '/model/anthropic%ZZ/converse', body('x'), bearer);
    expect(badEscape.status).toBe(400);
  });

  test('GET on a Bedrock route is a 405 in Bedrock shape', async () => {
    const res = await fetch(`${h.url}${CONVERSE}`, { headers: bearer });
    expect(res.status).toBe(405);
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
  });

  test('an inference-profile ARN is forwarded exactly as percent-encoded', async () => {
    const arn =
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0';
    const path = bedrockPath(arn, 'converse');
    expect(path).toContain('%2F');
    const res = await post(h, path, body('arn'), bearer);
    expect(res.status).toBe(200);
    expect(mock.stats.lastRequest?.path).toBe(path);
  });
});
