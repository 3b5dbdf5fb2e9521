import { dataStream } from './helpers.js';

/**
 * Recorded-style Chat Completions streams, framed exactly as api.openai.com frames them:
 * `data: <chunk JSON>\n\n` per chunk, `data: [DONE]\n\n` at the end, chunk keys in OpenAI's order.
 */

const HEAD = {
  id: 'chatcmpl-BxQ3r7mK2pTnV8sLwYc1ZgHfE4uJo',
  object: 'chat.completion.chunk',
  created: 1753462800,
  model: 'gpt-4o-mini-2024-07-18',
  service_tier: 'default',
  system_fingerprint: 'fp_34a54ae93c',
};

type Delta = Record<string, unknown>;

function choice(index: number, delta: Delta, finish: string | null = null, logprobs: unknown = null) {
  return { index, delta, logprobs, finish_reason: finish };
}

/** A chunk as sent with `stream_options.include_usage` (so `usage: null`), with obfuscation padding. */
function withUsageNull(choices: unknown[], padding = 'aB3x') {
  return { ...HEAD, choices, usage: null, obfuscation: padding };
}

function plain(choices: unknown[]) {
  return { ...HEAD, choices };
}

export const USAGE = {
  prompt_tokens: 19,
  completion_tokens: 9,
  total_tokens: 28,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};

/** Plain text, `include_usage: true`: every chunk has `usage: null`, the last chunk carries usage. */
export const TEXT_WITH_USAGE = dataStream([
  withUsageNull([choice(0, { role: 'assistant', content: '', refusal: null, annotations: [] })]),
  ...['Hello', '!', ' How', ' can', ' I', ' help', '?'].map((content, i) =>
    withUsageNull([choice(0, { content })], `p${i}`),
  ),
  withUsageNull([choice(0, {}, 'stop')]),
  { ...HEAD, choices: [], usage: USAGE, obfuscation: 'Zq' },
]);

export const TEXT_WITH_USAGE_JSON = {
  id: HEAD.id,
  object: 'chat.completion',
  created: HEAD.created,
  model: HEAD.model,
  service_tier: 'default',
  system_fingerprint: 'fp_34a54ae93c',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello! How can I help?', refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: USAGE,
};

const weather = (index: number, id: string, parts: string[]) => [
  plain([
    choice(0, {
      tool_calls: [{ index, id, type: 'function', function: { name: 'get_weather', arguments: '' } }],
    }),
  ]),
  ...parts.map((args) => plain([choice(0, { tool_calls: [{ index, function: { arguments: args } }] })])),
];

/** Two parallel tool calls, each with its arguments split over several fragments. */
export const PARALLEL_TOOL_CALLS = dataStream([
  plain([choice(0, { role: 'assistant', content: null, refusal: null })]),
  ...weather(0, 'call_Fq7v2KpXo1s9TnRb', ['{"lo', 'cation', '": "Pa', 'ris, F', 'rance"}']),
  ...weather(1, 'call_Mz3c8WyQe5u0LhDa', ['{"location"', ': "Tokyo', ', Japan"', '}']),
  plain([choice(0, {}, 'tool_calls')]),
]);

export const PARALLEL_TOOL_CALLS_MESSAGE = {
  role: 'assistant',
  content: null,
  refusal: null,
  tool_calls: [
    {
      id: 'call_Fq7v2KpXo1s9TnRb',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location": "Paris, France"}' },
    },
    {
      id: 'call_Mz3c8WyQe5u0LhDa',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location": "Tokyo, Japan"}' },
    },
  ],
};

/** `n: 2`: the two choices' chunks interleave; choice 1 stops on length. */
export const TWO_CHOICES = dataStream([
  plain([choice(0, { role: 'assistant', content: '', refusal: null })]),
  plain([choice(1, { role: 'assistant', content: '', refusal: null })]),
  plain([choice(0, { content: 'Red' })]),
  plain([choice(1, { content: 'Blue' })]),
  plain([choice(1, { content: ' and' })]),
  plain([choice(0, {}, 'stop')]),
  plain([choice(1, {}, 'length')]),
]);

const lp = (token: string, logprob: number) => ({
  token,
  logprob,
  bytes: [...Buffer.from(token)],
  top_logprobs: [{ token, logprob, bytes: [...Buffer.from(token)] }],
});

export const LOGPROB_ENTRIES = [lp('Hi', -0.0009), lp(' there', -0.31), lp('.', -0.02)];

/** `logprobs: true, top_logprobs: 1`: the first chunk opens empty arrays, each token chunk carries its entry. */
export const WITH_LOGPROBS = dataStream([
  plain([choice(0, { role: 'assistant', content: '', refusal: null }, null, { content: [], refusal: null })]),
  ...LOGPROB_ENTRIES.map((entry) =>
    plain([choice(0, { content: entry.token }, null, { content: [entry], refusal: null })]),
  ),
  plain([choice(0, {}, 'stop')]),
]);

/** A structured-outputs refusal. */
export const REFUSAL = dataStream([
  plain([choice(0, { role: 'assistant', content: null, refusal: '' })]),
  ...["I'm", ' sorry,', ' I', " can't", ' help', ' with', ' that.'].map((refusal) =>
    plain([choice(0, { refusal })]),
  ),
  plain([choice(0, {}, 'stop')]),
]);

/** DeepSeek-style `reasoning_content`, usage on the finishing chunk (not a separate `choices: []` chunk). */
export const REASONING = dataStream([
  {
    ...plain([choice(0, { role: 'assistant', content: null, reasoning_content: '' })]),
    model: 'deepseek-reasoner',
  },
  ...['The', ' user', ' greets', ' me.'].map((reasoning_content) => ({
    ...plain([choice(0, { content: null, reasoning_content })]),
    model: 'deepseek-reasoner',
  })),
  ...['Hi', '!'].map((content) => ({
    ...plain([choice(0, { content, reasoning_content: null })]),
    model: 'deepseek-reasoner',
  })),
  {
    ...plain([choice(0, { content: '', reasoning_content: null }, 'stop')]),
    model: 'deepseek-reasoner',
    usage: { prompt_tokens: 11, completion_tokens: 14, total_tokens: 25 },
  },
]);
