import type { IncomingHttpHeaders } from 'node:http';

/**
 * The request headers that are cache-key material, each with the reason it can change the answer
 * or the account that pays for it. Every other header is transport or ours (x-sluice-*); the
 * credential is scope, not material (src/cache/credentials.ts). A test covers every entry here.
 */
export const KEY_HEADERS: Readonly<Record<string, string>> = {
  // Turns on beta features (new tools, output formats, longer outputs) that change the answer.
  'anthropic-beta': 'feature flags',
  // The API version: the shape and defaults of the answer.
  'anthropic-version': 'API version',
  // Which organization's models, fine-tunes and policies answer (and pay).
  'openai-organization': 'account',
  // Which project's models, fine-tunes and limits answer (and pay).
  'openai-project': 'account',
};

const NAMES = Object.keys(KEY_HEADERS);

/** The key headers present on a request, trimmed; repeated headers joined as HTTP joins them. */
export function keyHeaderMaterial(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of NAMES) {
    const value = headers[name];
    const joined = Array.isArray(value) ? value.join(', ') : value;
    if (joined !== undefined && joined.trim() !== '') out[name] = joined.trim();
  }
  return out;
}
