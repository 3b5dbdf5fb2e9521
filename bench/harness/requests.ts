import { request } from 'undici';

/** Request bodies and one-off probe requests shared by the gateway, cache and redis benchmarks. */

export const CHAT_PATH = '/v1/chat/completions';

export const JSON_HEADERS = {
  'content-type': 'application/json',
  authorization: 'Bearer sk-bench',
};

/** A chat request as an SDK would send it; `label` makes distinct cache keys. */
export function chatBody(options: { stream: boolean; label?: string }): string {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      {
        role: 'user',
        content: `Explain what a caching gateway does. ${options.label ?? ''}`.trim(),
      },
    ],
    temperature: 0,
    stream: options.stream,
  });
}

export interface ProbeResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** One request, whole body read; for checks before a measurement and for capturing bytes. */
export async function probe(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<ProbeResult> {
  const response = await request(url, {
    method: 'POST',
    body,
    headers: { ...JSON_HEADERS, ...headers },
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    status: response.statusCode,
    headers: flat,
    body: Buffer.concat(chunks),
  };
}

/** Number of SSE events in a body (blank-line separated frames). */
export function countSseEvents(body: Buffer): number {
  return body.toString('utf8').split('\n\n').length - 1;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
