/**
 * Requests that must never share a cache entry (DESIGN.md rules 3 and 4), as one table run
 * against both the gateway and the library's caching fetch: each case is a pair of requests
 * that differ in exactly one input outside the body (a credential source, the query string, a
 * key header) or in the Responses `store` field.
 */

export interface Variant {
  headers: Record<string, string>;
  /** '' or '?a=b'. */
  query: string;
  /** Patch over the case's body. */
  body?: Record<string, unknown>;
}

export interface IsolationCase {
  name: string;
  family: 'openai' | 'anthropic';
  /** The route path ('/v1/chat/completions'). */
  route: string;
  body: Record<string, unknown>;
  a: Variant;
  b: Variant;
}

let counter = 0;
const unique = (label: string) => `isolation ${label} #${++counter} ${process.pid} ${Date.now()}`;

const chat = (label: string) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: unique(label) }],
  stream: true,
});
const messages = (label: string) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: unique(label) }],
});
const only = (headers: Record<string, string>, query = ''): Variant => ({ headers, query });

/** One case per credential source of the default list, each presented alone. */
export function credentialCases(): IsolationCase[] {
  return [
    {
      name: 'credential in authorization',
      family: 'openai',
      route: '/v1/chat/completions',
      body: chat('authorization'),
      a: only({ authorization: 'Bearer sk-tenant-one' }),
      b: only({ authorization: 'Bearer sk-tenant-two' }),
    },
    {
      name: 'credential in x-api-key',
      family: 'anthropic',
      route: '/v1/messages',
      body: messages('x-api-key'),
      a: only({ 'x-api-key': 'sk-ant-tenant-one', 'anthropic-version': '2023-06-01' }),
      b: only({ 'x-api-key': 'sk-ant-tenant-two', 'anthropic-version': '2023-06-01' }),
    },
    {
      name: 'credential in api-key (Azure)',
      family: 'openai',
      route: '/v1/chat/completions',
      body: chat('api-key'),
      a: only({ 'api-key': 'azure-key-one' }),
      b: only({ 'api-key': 'azure-key-two' }),
    },
    {
      name: 'credential in x-goog-api-key',
      family: 'openai',
      route: '/v1/chat/completions',
      body: chat('x-goog-api-key'),
      a: only({ 'x-goog-api-key': 'goog-key-one' }),
      b: only({ 'x-goog-api-key': 'goog-key-two' }),
    },
    {
      name: 'credential in the query (?key=)',
      family: 'openai',
      route: '/v1/chat/completions',
      body: chat('query key'),
      a: only({}, '?key=goog-query-one'),
      b: only({}, '?key=goog-query-two'),
    },
    {
      name: 'credential in the query (?api-key=)',
      family: 'openai',
      route: '/v1/chat/completions',
      body: chat('query api-key'),
      a: only({}, '?api-key=azure-query-one'),
      b: only({}, '?api-key=azure-query-two'),
    },
  ];
}

/** Where each default credential source is presented, as a header or a query parameter. */
const CREDENTIAL_PLACES = [
  { label: 'authorization', put: (v: string) => only({ authorization: `Bearer ${v}` }) },
  { label: 'x-api-key', put: (v: string) => only({ 'x-api-key': v }) },
  { label: 'api-key', put: (v: string) => only({ 'api-key': v }) },
  { label: 'x-goog-api-key', put: (v: string) => only({ 'x-goog-api-key': v }) },
  { label: '?key=', put: (v: string) => only({}, `?key=${v}`) },
  { label: '?api-key=', put: (v: string) => only({}, `?api-key=${v}`) },
] as const;

const both = (x: Variant, y: Variant): Variant => ({
  headers: { ...x.headers, ...y.headers },
  query: x.query && y.query ? `${x.query}&${y.query.slice(1)}` : x.query || y.query,
});

/**
 * One case per pair of credential sources, each in both orders: the two requests send the same
 * value in one source and different values in the other, so a scope that reads only one source
 * (whichever comes first) lets the second client read the first one's answer.
 */
export function credentialPairCases(): IsolationCase[] {
  const out: IsolationCase[] = [];
  for (const same of CREDENTIAL_PLACES) {
    for (const differs of CREDENTIAL_PLACES) {
      if (same === differs) continue;
      out.push({
        name: `same ${same.label}, different ${differs.label}`,
        family: 'openai',
        route: '/v1/chat/completions',
        body: chat(`pair ${same.label} ${differs.label}`),
        a: both(same.put('shared-cred'), differs.put('cred-one')),
        b: both(same.put('shared-cred'), differs.put('cred-two')),
      });
    }
  }
  return out;
}

/** The query string and every key header, one case each; the credential is the same in both. */
export function materialCases(): IsolationCase[] {
  const auth = { authorization: 'Bearer sk-same-tenant' };
  const ant = { 'x-api-key': 'sk-ant-same-tenant' };
  return [
    {
      name: 'query string (?api-version=)',
      family: 'openai',
      route: '/v1/chat/completions',
      body: chat('api-version'),
      a: only(auth, '?api-version=2024-02-01'),
      b: only(auth, '?api-version=2024-10-21'),
    },
    {
      name: 'header anthropic-beta',
      family: 'anthropic',
      route: '/v1/messages',
      body: messages('anthropic-beta'),
      a: only({ ...ant, 'anthropic-version': '2023-06-01' }),
      b: only({ ...ant, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'output-128k-2025-02-19' }),
    },
    {
      name: 'header anthropic-version',
      family: 'anthropic',
      route: '/v1/messages',
      body: messages('anthropic-version'),
      a: only({ ...ant, 'anthropic-version': '2023-06-01' }),
      b: only({ ...ant, 'anthropic-version': '2023-01-01' }),
    },
    {
      name: 'header openai-organization',
      family: 'openai',
      route: '/v1/chat/completions',
      body: chat('openai-organization'),
      a: only({ ...auth, 'openai-organization': 'org-one' }),
      b: only({ ...auth, 'openai-organization': 'org-two' }),
    },
    {
      name: 'header openai-project',
      family: 'openai',
      route: '/v1/chat/completions',
      body: chat('openai-project'),
      a: only({ ...auth, 'openai-project': 'proj-one' }),
      b: only({ ...auth, 'openai-project': 'proj-two' }),
    },
    {
      name: 'Responses store:false vs store:true',
      family: 'openai',
      route: '/v1/responses',
      body: { model: 'gpt-4.1', input: unique('store'), stream: true },
      a: { headers: auth, query: '', body: { store: false } },
      b: { headers: auth, query: '', body: { store: true } },
    },
  ];
}

/** A chat stream whose `[DONE]` is followed by one more content chunk that no SDK would read. */
export const AFTER_DONE_TEXT = 'INJECTED-AFTER-DONE';

export function streamWithEventAfterDone(): string {
  const frame = (fields: object) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-after-done',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-4o-mini',
      ...fields,
    })}\n\n`;
  const chunk = (delta: object, finish: string | null) =>
    frame({ choices: [{ index: 0, delta, finish_reason: finish }] });
  return (
    chunk({ role: 'assistant', content: 'Hello' }, null) +
    chunk({ content: ' world' }, null) +
    chunk({}, 'stop') +
    // The usage chunk lets a JSON request be answered from the recording, were it stored.
    frame({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }) +
    'data: [DONE]\n\n' +
    chunk({ content: ` ${AFTER_DONE_TEXT}` }, null)
  );
}

/** What the same upstream answers to a non-stream request. */
export function plainAnswer(): object {
  return {
    id: 'chatcmpl-plain',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello world' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}
