import {
  answerTokens,
  createdFrom,
  endlessToken,
  estimateTokens,
  idFrom,
  isRecord,
  type JsonRecord,
  withMarker,
} from './answer.js';
import { openaiErrorBody } from './errors.js';
import {
  deltaEvent,
  type MockProtocol,
  type MockReply,
  MockRequestError,
  optionalInteger,
  type RequestContext,
  requireString,
  type SseEvent,
  sse,
  tailEvent,
} from './protocol.js';

/**
 * POST /v1/completions, the legacy API: `text_completion` objects with `choices[].text`.
 * Streams end with a finish chunk per choice, the usage chunk (with
 * `stream_options.include_usage`) and `data: [DONE]`.
 */

const DONE_IN_CONTENT_MARKER = 'data: [DONE]\n\n';

export const openaiCompletions: MockProtocol = {
  errorShape: 'openai',
  reply(context: RequestContext): MockReply {
    const { body, knobs, hash } = context;
    const model = requireString(body, 'model');
    if (body.prompt === undefined || body.prompt === null) {
      throw new MockRequestError(400, "Missing required parameter: 'prompt'.", 'prompt');
    }
    const n = optionalInteger(body, 'n', 1, 128) ?? 1;
    const maxTokens = optionalInteger(body, 'max_tokens', 0, 1_000_000);
    const choices = Array.from({ length: n }, (_, index) => {
      let tokens = answerTokens(hash, index, knobs.words);
      if (knobs.doneInContent && tokens.length > 0) tokens = withMarker(tokens, DONE_IN_CONTENT_MARKER);
      const capped = maxTokens !== undefined && tokens.length > maxTokens;
      return {
        index,
        tokens: capped ? tokens.slice(0, maxTokens) : tokens,
        finish: capped ? 'length' : 'stop',
      };
    });
    const promptTokens = estimateTokens(body.prompt);
    const completionTokens = choices.reduce((sum, c) => sum + c.tokens.length, 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const base = {
      id: `cmpl-${idFrom(hash, 29)}`,
      object: 'text_completion',
      created: createdFrom(hash),
      model,
      system_fingerprint: `fp_${hash.slice(0, 10)}`,
    };
    if (!context.stream) {
      return {
        kind: 'json',
        contentChunks: choices[0]?.tokens.length ?? 0,
        body: {
          ...base,
          choices: choices.map((c) => ({
            text: c.tokens.join(''),
            index: c.index,
            logprobs: null,
            finish_reason: c.finish,
          })),
          usage,
        },
      };
    }

    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    const chunk = (index: number, text: string, finish: string | null): JsonRecord => {
      const out: JsonRecord = { ...base, choices: [{ text, index, logprobs: null, finish_reason: finish }] };
      if (includeUsage) out.usage = null;
      return out;
    };
    const middle: SseEvent[] = [];
    const longest = Math.max(0, ...choices.map((c) => c.tokens.length));
    for (let step = 0; step < longest; step++) {
      for (const c of choices) {
        const token = c.tokens[step];
        if (token !== undefined) middle.push(deltaEvent(chunk(c.index, token, null)));
      }
    }
    const tail = choices.map((c) => tailEvent(chunk(c.index, '', c.finish)));
    if (includeUsage) tail.push(tailEvent({ ...base, choices: [], usage }));
    tail.push({ data: '[DONE]', tail: true });
    return {
      kind: 'stream',
      plan: {
        events: [...middle, ...tail],
        doneMarker: '[DONE]',
        errorEvents: () => [
          sse(
            openaiErrorBody(
              500,
              'The server had an error while processing your request (mock stream error).',
            ),
          ),
        ],
        *endless() {
          for (let i = 0; ; i++) yield deltaEvent(chunk(0, endlessToken(i), null));
        },
      },
    };
  },
};
