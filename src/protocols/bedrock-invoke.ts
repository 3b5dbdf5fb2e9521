import type { SseEvent, SseEventInit } from '../sse/types.js';
import { anthropicMessagesProtocol } from './anthropic-messages.js';
import { isJsonObject } from './anthropic-shared.js';
import { answerHeaders, bedrockRequest, bedrockRoute, checkBedrockRequest } from './bedrock-shared.js';
import { ProtocolError } from './errors.js';
import type { JsonVerdict, Protocol, StreamVerdict } from './types.js';

/**
 * Bedrock InvokeModel (`POST /model/{modelId}/invoke`) and InvokeModelWithResponseStream
 * (`.../invoke-with-response-stream`). The body is the model family's own format; a stream is
 * event-stream `chunk` frames whose payload `{"bytes": base64}` holds one of the family's events.
 *
 * Completeness is the family's own rule, applied to the decoded chunks. The family is read from
 * the chunks themselves (an inference-profile ARN does not name it): Anthropic's Messages events
 * (`message_start` ... `message_stop`) are judged by the Anthropic protocol. Any other family is
 * passed through and never stored (counted as `unknown_model_family`).
 *
 * The stream and JSON routes do not share entries (`:stream` is key material): converting needs
 * the family's format, which Sluice knows for one family only.
 */

function invokeRoute(stream: boolean): Protocol {
  const operation = stream ? 'invoke-with-response-stream' : 'invoke';
  return {
    ...bedrockRoute('bedrock.invoke', operation),

    validate(body, route) {
      const check = checkBedrockRequest(body, route);
      if (!check.ok) return check;
      return bedrockRequest(check, stream, {
        ':modelId': check.route.modelId,
        ':stream': stream,
        ':headers': answerHeaders(check.route),
      });
    },

    isTerminal: (event) => {
      if (event.event !== 'chunk') return false;
      const decoded = decodeChunks([event]);
      return (
        decoded.ok &&
        decoded.events[0] !== undefined &&
        anthropicMessagesProtocol.isTerminal(decoded.events[0])
      );
    },

    inspectStream(events) {
      const decoded = decodeChunks(events);
      if (!decoded.ok) return decoded.verdict;
      if (decoded.family === 'anthropic') return anthropicMessagesProtocol.inspectStream(decoded.events);
      return {
        complete: false,
        code: 'unknown_model_family',
        reason: 'the chunks are not in a model format Sluice knows how to judge',
      };
    },

    inspectJson(body): JsonVerdict {
      if (!isJsonObject(body)) return { ok: false, reason: 'body is not a JSON object' };
      if (body.type === 'message' || body.type === 'error')
        return anthropicMessagesProtocol.inspectJson(body);
      // Bedrock's own error shape: a lone message (sometimes "Message").
      const keys = Object.keys(body);
      if (keys.length === 1 && (keys[0] === 'message' || keys[0] === 'Message')) {
        return { ok: false, reason: 'body is an error object' };
      }
      return { ok: true };
    },

    assemble(events) {
      const decoded = decodeChunks(events);
      if (!decoded.ok || decoded.family !== 'anthropic') {
        throw new ProtocolError('PROTOCOL_MALFORMED_STREAM', 'only Anthropic chunk streams can be assembled');
      }
      return anthropicMessagesProtocol.assemble(decoded.events);
    },

    synthesize(answer, request): SseEventInit[] {
      if (answer.type !== 'message') {
        throw new ProtocolError(
          'PROTOCOL_MALFORMED_ANSWER',
          'only Anthropic messages can be turned into chunks',
        );
      }
      return anthropicMessagesProtocol.synthesize(answer, request).map((event) => ({
        event: 'chunk',
        data: JSON.stringify({ bytes: Buffer.from(event.data, 'utf8').toString('base64') }),
      }));
    },
  };
}

export const bedrockInvokeProtocol = invokeRoute(false);
export const bedrockInvokeStreamProtocol = invokeRoute(true);

type Decoded =
  { ok: true; family: 'anthropic' | 'unknown'; events: SseEvent[] } | { ok: false; verdict: StreamVerdict };

/** The family events carried by `chunk` frames, as SSE-like events the family's protocol reads. */
function decodeChunks(events: readonly SseEvent[]): Decoded {
  const out: SseEvent[] = [];
  for (const [i, event] of events.entries()) {
    const name = event.event ?? '';
    if (name.startsWith('exception:') || name.startsWith('error:')) {
      return { ok: false, verdict: { complete: false, reason: `${name} frame at index ${i}` } };
    }
    if (name !== 'chunk') continue;
    let bytes: unknown;
    try {
      bytes = (JSON.parse(event.data) as { bytes?: unknown }).bytes;
    } catch {
      return { ok: false, verdict: { complete: false, reason: `chunk ${i} is not JSON` } };
    }
    if (typeof bytes !== 'string')
      return { ok: false, verdict: { complete: false, reason: `chunk ${i} has no bytes` } };
    const data = Buffer.from(bytes, 'base64').toString('utf8');
    let type: unknown;
    try {
      const parsed: unknown = JSON.parse(data);
      type = isJsonObject(parsed) ? parsed.type : undefined;
    } catch {
      type = undefined;
    }
    out.push({
      event: typeof type === 'string' ? type : undefined,
      data,
      id: undefined,
      retry: undefined,
      start: event.start,
      end: event.end,
    });
  }
  const family = out[0]?.event === 'message_start' ? 'anthropic' : 'unknown';
  return { ok: true, family, events: out };
}
