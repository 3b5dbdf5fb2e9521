/** GET /v1/models and /v1/models/{id}: a tiny catalogue in OpenAI or Anthropic shape, for pass-through tests. */

const OPENAI_MODELS = [
  'gpt-4o-mini',
  'gpt-4o',
  'o4-mini',
  'text-embedding-3-small',
  'gpt-3.5-turbo-instruct',
];
const ANTHROPIC_MODELS = ['claude-sonnet-4-6', 'claude-opus-4-7', 'claude-haiku-4-5'];
const CREATED = 1_700_000_000;

/** The listing or one model for `path`, or undefined for an unknown model id. */
export function modelsList(path: string, anthropic: boolean): unknown {
  const id = path.startsWith('/v1/models/')
    ? decodeURIComponent(path.slice('/v1/models/'.length))
    : undefined;
  if (anthropic) {
    const data = ANTHROPIC_MODELS.map((model) => ({
      type: 'model',
      id: model,
      display_name: model,
      created_at: new Date(CREATED * 1000).toISOString(),
    }));
    if (id !== undefined) return data.find((m) => m.id === id);
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  }
  const data = OPENAI_MODELS.map((model) => ({
    id: model,
    object: 'model',
    created: CREATED,
    owned_by: 'openai',
  }));
  if (id !== undefined) return data.find((m) => m.id === id);
  return { object: 'list', data };
}
