import { type GenerateContentParameters, type GenerateContentResponse, GoogleGenAI } from '@google/genai';
import type { Harness } from '../gateway/harness.js';
import { sleep } from '../gateway/harness.js';

export const MODEL = 'gemini-2.5-flash';

/** The official SDK pointed at `baseUrl`, no retries, with extra headers (mock knobs, cache controls). */
export function genai(baseUrl: string, options: { apiKey?: string; headers?: Record<string, string> } = {}): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: options.apiKey ?? 'AIza-test-tenant-a',
    httpOptions: { baseUrl, headers: options.headers ?? {}, retryOptions: { attempts: 1 } },
  });
}

/** What a client makes of an answer, streamed or not: the fields the cache must keep equal. */
export interface Parsed {
  text: string;
  finishReason: string | undefined;
  functionCalls: unknown[];
  usage: unknown;
  modelVersion: string | undefined;
  cache: string | undefined;
}

export async function generate(ai: GoogleGenAI, params: GenerateContentParameters): Promise<Parsed> {
  const response = await ai.models.generateContent(params);
  return {
    text: response.text ?? '',
    finishReason: response.candidates?.[0]?.finishReason,
    functionCalls: response.functionCalls ?? [],
    usage: response.usageMetadata,
    modelVersion: response.modelVersion,
    cache: response.sdkHttpResponse?.headers?.['x-sluice-cache'],
  };
}

export async function generateStream(ai: GoogleGenAI, params: GenerateContentParameters): Promise<Parsed & { chunks: number }> {
  const stream = await ai.models.generateContentStream(params);
  const out: Parsed & { chunks: number } = {
    text: '',
    finishReason: undefined,
    functionCalls: [],
    usage: undefined,
    modelVersion: undefined,
    cache: undefined,
    chunks: 0,
  };
  for await (const chunk of stream as AsyncGenerator<GenerateContentResponse>) {
    out.chunks++;
    out.cache ??= chunk.sdkHttpResponse?.headers?.['x-sluice-cache'];
    out.text += chunk.text ?? '';
    out.functionCalls.push(...(chunk.functionCalls ?? []));
    out.finishReason = chunk.candidates?.[0]?.finishReason ?? out.finishReason;
    if (chunk.usageMetadata) out.usage = chunk.usageMetadata;
    out.modelVersion = chunk.modelVersion ?? out.modelVersion;
  }
  return out;
}

/** Entries are written after the response ended. */
export const settle = () => sleep(40);

export function geminiPath(operation: string, model = MODEL, search = ''): string {
  return `/v1beta/models/${model}:${operation}${search}`;
}

/** A raw POST to the gateway, read to the end (a cut body reads as what arrived). */
export async function rawPost(
  h: Harness,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; cache: string | null; text: string }> {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-test-tenant-a', ...headers },
    body: JSON.stringify(body),
  });
  let text = '';
  try {
    text = await res.text();
  } catch {
    // A reset mid-body: what matters is what the cache did with it.
  }
  return { status: res.status, cache: res.headers.get('x-sluice-cache'), text };
}

export function contents(prompt: string) {
  return { contents: [{ role: 'user', parts: [{ text: prompt }] }] };
}
