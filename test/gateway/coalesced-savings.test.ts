import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatBody, type Harness, sleep, startHarness } from './harness.js';

/** Issue 23: a follower answered whole by another request's upstream call saved what a hit saves. */

const TOKEN = 'admin-token-0123456789';

interface Savings {
  hits: number;
  tokens: { input: number; output: number };
  usd: number;
}

describe('coalesced answers count as savings', () => {
  let h: Harness;
  const savings = async () =>
    ((await (await fetch(`${h.url}/admin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { savings: Savings })
      .savings;

  beforeAll(async () => {
    h = await startHarness({ adminToken: TOKEN, prices: { 'gpt-4o-mini': { inputPerMTok: 1000, outputPerMTok: 3000 } } });
  });
  afterAll(async () => {
    await h?.gateway.close();
    await h?.mock.close();
  });

  it('a JSON follower of a JSON leader adds the answer usage to tokens and money saved', async () => {
    const body = chatBody('coalesced savings');
    const headers = { 'x-mock-delay-ms': '30' };
    const leader = h.post('/v1/chat/completions', body, headers);
    await sleep(50);
    const follower = h.post('/v1/chat/completions', body, headers);
    const [lead, follow] = await Promise.all([leader, follower]);
    const answer = (await follow.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    await lead.text();
    expect(lead.headers.get('x-sluice-cache')).toBe('MISS');
    expect(follow.headers.get('x-sluice-cache')).toBe('COALESCED');
    expect(h.mock.stats.requests).toBe(1);
    const saved = await savings();
    expect(saved.hits).toBe(1);
    expect(saved.tokens).toEqual({ input: answer.usage.prompt_tokens, output: answer.usage.completion_tokens });
    expect(saved.usd).toBeGreaterThan(0);
  });
});
