import type { EngineProtocol, RequestInfo, StreamUsageOption } from '../protocols/types.js';
import { createSseDecoder } from '../sse/decoder.js';
import { encodeSseEvent } from '../sse/encoder.js';

export interface UsageStripper {
  /** Bytes of the asked-for-usage stream in; the bytes a client that did not ask should get out. */
  push(chunk: Uint8Array): Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * Incremental and byte-preserving where it can be: events the protocol keeps, and anything
 * between events (comments, keep-alives), pass as they arrived; only rewritten events are
 * re-encoded, and the usage chunk is left out. Bytes of an unfinished event wait for its end.
 * Should the stream stop being SSE it could decode, the rest passes untouched.
 */
export function createUsageStripper(option: StreamUsageOption, maxFrameBytes: number): UsageStripper {
  const decoder = createSseDecoder({ maxRemainderBytes: maxFrameBytes });
  let held: Buffer = Buffer.alloc(0);
  /** Absolute stream offset of held[0]. */
  let base = 0;
  let failed = false;
  return {
    push(chunk) {
      if (failed) return chunk;
      let events;
      try {
        events = decoder.feed(chunk);
      } catch {
        failed = true;
        const rest = Buffer.concat([held, chunk]);
        held = Buffer.alloc(0);
        return rest;
      }
      held = held.byteLength === 0 ? Buffer.from(chunk) : Buffer.concat([held, chunk]);
      if (events.length === 0) return EMPTY;
      const out: Uint8Array[] = [];
      let at = base;
      for (const event of events) {
        if (event.start > at) out.push(held.subarray(at - base, event.start - base));
        const verdict = option.strip(event);
        if (verdict === 'keep') out.push(held.subarray(event.start - base, event.end - base));
        else if (verdict !== 'drop') out.push(encodeSseEvent(verdict));
        at = event.end;
      }
      held = held.subarray(at - base);
      base = at;
      return out.length === 1 ? (out[0] as Uint8Array) : Buffer.concat(out);
    },
  };
}

/**
 * The request as it goes upstream: asking for usage on a stream whose client did not, when
 * `enabled` (cache.requestStreamUsage, and the answer may be stored) and the protocol can.
 */
export function withStreamUsage(protocol: EngineProtocol, request: RequestInfo, enabled: boolean): RequestInfo {
  const option = protocol.streamUsage;
  if (!enabled || !option || !request.stream || request.wantsStreamUsage) return request;
  return { ...request, body: option.ask(request.body), wantsStreamUsage: true };
}

/**
 * A stripper for a stream client fed the live bytes of a stream that carries usage it did not ask
 * for; undefined when the bytes already are what it asked for.
 */
export function stripperFor(
  protocol: EngineProtocol,
  upstream: RequestInfo,
  client: RequestInfo,
  maxFrameBytes: number,
): UsageStripper | undefined {
  const option = protocol.streamUsage;
  if (!option || !upstream.stream || !client.stream || !upstream.wantsStreamUsage || client.wantsStreamUsage) {
    return undefined;
  }
  return createUsageStripper(option, maxFrameBytes);
}
