import type { ServerResponse } from 'node:http';
import { endlessToken } from './answer.js';
import type { ClientWatch } from './client-watch.js';
import type { Knobs } from './knobs.js';

/**
 * Sends a non-streamed answer, applying the knobs that make sense for a JSON body:
 * generation time (delay × chunks), truncation and reset by bytes, and an endless body.
 */
export async function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentChunks: number,
  knobs: Knobs,
  watch: ClientWatch,
  willReset: () => void,
): Promise<void> {
  // A real non-streamed answer arrives after the whole generation took place.
  if (knobs.delayMs > 0 && contentChunks > 0 && !knobs.endless) {
    if (!(await watch.sleep(knobs.delayMs * contentChunks))) return;
  }
  if (knobs.endless) return writeEndlessJson(res, status, knobs, watch);

  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  const cut = knobs.truncateAfter ?? knobs.resetAfter;
  if (cut === undefined) {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
    res.end(bytes);
    return;
  }
  // No content-length: the body must look complete at the HTTP level (truncate) or die mid-way (reset).
  res.writeHead(status, { 'content-type': 'application/json' });
  const head = bytes.subarray(0, Math.min(cut, bytes.length));
  if (knobs.truncateAfter !== undefined) {
    res.end(head);
    return;
  }
  await new Promise<void>((resolve) => res.write(head, () => resolve()));
  willReset();
  res.socket?.destroy();
  res.destroy();
}

/** A JSON body that never closes: for response-size and duration limits on non-streamed calls. */
async function writeEndlessJson(
  res: ServerResponse,
  status: number,
  knobs: Knobs,
  watch: ClientWatch,
): Promise<void> {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.write('{"object":"mock.endless","text":"');
  const delayMs = Math.max(1, knobs.delayMs);
  for (let i = 0; !watch.gone; i++) {
    const escaped = JSON.stringify(endlessToken(i)).slice(1, -1);
    if (!res.write(escaped) && !(await drainedOrGone(res))) return;
    if (!(await watch.sleep(delayMs))) return;
  }
}

function drainedOrGone(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (drained: boolean) => (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(drained);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
