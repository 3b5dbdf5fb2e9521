import { type ReplayPlan, streamResponseHeaders } from '../replay/replay.js';
import { pause } from './pacing.js';

/**
 * A fetch Response that plays a replay plan: frames in order, each after its delay. The SDK's
 * abort signal (its timeout, or `break` out of a stream) ends the body with the abort reason,
 * as a real fetch body would.
 */
export function replayResponse(
  plan: ReplayPlan,
  headers: Headers,
  signal: AbortSignal | undefined,
): Response {
  headers.set('content-type', plan.contentType);
  for (const [name, value] of Object.entries(streamResponseHeaders(plan.contentType))) headers.set(name, value);
  let index = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index >= plan.frames.length) {
        controller.close();
        return;
      }
      await pause(plan.delaysMs?.[index] ?? 0, signal);
      if (signal?.aborted) {
        controller.error(signal.reason);
        return;
      }
      const frame = plan.frames[index++] as Uint8Array;
      // A copy: the frame may be a view into a cached entry the consumer must not be able to touch.
      controller.enqueue(frame.slice());
      if (index >= plan.frames.length) controller.close();
    },
  });
  return new Response(body, { status: 200, headers });
}
