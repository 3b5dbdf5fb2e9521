import {
  BedrockRuntimeClient,
  type ContentBlock,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  ConverseStreamCommand,
  type ConverseStreamCommandInput,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ConfigInput } from '../../src/config.js';
import { type Harness, sleep, startHarness } from '../gateway/harness.js';
import { MOCK_AWS_CREDENTIALS } from '../mock-upstream/bedrock-auth.js';
import type { MockUpstream } from '../mock-upstream/index.js';

export const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
export const LLAMA = 'meta.llama3-8b-instruct-v1:0';

export interface ClientOptions {
  endpoint: string;
  /** Default: the SDK's own (HTTP/2); 'http1' swaps in NodeHttpHandler. */
  handler?: 'default' | 'http1';
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Extra request headers (mock knobs, cache controls), added before signing. */
  headers?: Record<string, string>;
}

export interface CapturingClient {
  client: BedrockRuntimeClient;
  /** Response headers of the last call. */
  last: () => Record<string, string>;
  destroy(): void;
}

/** The official SDK, pointed at `endpoint`, no retries, capturing response headers. */
export function bedrockClient(options: ClientOptions): CapturingClient {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: options.endpoint,
    // A copy: the SDK marks the object it is given (a `$source` field).
    credentials: {
      ...(options.credentials ?? {
        accessKeyId: 'AKIACLIENTTENANT0001',
        secretAccessKey: 'client-secret-0001',
      }),
    },
    maxAttempts: 1,
    ...(options.handler === 'http1' ? { requestHandler: new NodeHttpHandler() } : {}),
  });
  let headers: Record<string, string> = {};
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) Object.assign(request.headers, options.headers ?? {});
      return next(args);
    },
    { step: 'build', name: 'testHeaders' },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      headers = { ...((result.response as { headers?: Record<string, string> }).headers ?? {}) };
      return result;
    },
    { step: 'deserialize', name: 'captureHeaders', priority: 'low' },
  );
  return { client, last: () => headers, destroy: () => client.destroy() };
}

/** A gateway in front of the mock with Sluice's AWS credentials set to the mock's. */
export function startBedrockHarness(config: ConfigInput = {}, mock?: MockUpstream): Promise<Harness> {
  const { bedrock, ...rest } = config;
  return startHarness({ ...rest, bedrock: { ...MOCK_AWS_CREDENTIALS, ...bedrock } }, mock);
}

export function converseInput(
  text: string,
  extra: Partial<ConverseCommandInput> = {},
): ConverseCommandInput & ConverseStreamCommandInput {
  return {
    modelId: MODEL,
    messages: [{ role: 'user', content: [{ text }] }],
    inferenceConfig: { maxTokens: 256 },
    ...extra,
  };
}

export const WEATHER_TOOL_CONFIG = {
  tools: [
    {
      toolSpec: {
        name: 'get_weather',
        description: 'Weather for a city',
        inputSchema: {
          json: {
            type: 'object',
            properties: { city: { type: 'string' }, days: { type: 'integer' } },
            required: ['city'],
          },
        },
      },
    },
  ],
};

/** What a Converse client keeps of an answer: text, tool uses, stop reason, usage. */
export interface ConverseSummary {
  text: string;
  toolUses: Array<{ toolUseId: string | undefined; name: string | undefined; input: unknown }>;
  stopReason: string | undefined;
  usage: {
    inputTokens: number | undefined;
    outputTokens: number | undefined;
    totalTokens: number | undefined;
  };
}

export function summarizeConverse(output: ConverseCommandOutput): ConverseSummary {
  const content: ContentBlock[] = output.output?.message?.content ?? [];
  return {
    text: content.map((b) => b.text ?? '').join(''),
    toolUses: content
      .filter((b) => b.toolUse)
      .map((b) => ({ toolUseId: b.toolUse?.toolUseId, name: b.toolUse?.name, input: b.toolUse?.input })),
    stopReason: output.stopReason,
    usage: {
      inputTokens: output.usage?.inputTokens,
      outputTokens: output.usage?.outputTokens,
      totalTokens: output.usage?.totalTokens,
    },
  };
}

/** Read a ConverseStream to the end the way an application would. */
export async function collectConverseStream(
  client: BedrockRuntimeClient,
  input: ConverseStreamCommandInput,
): Promise<ConverseSummary> {
  const response = await client.send(new ConverseStreamCommand(input));
  let text = '';
  const tools = new Map<number, { toolUseId: string | undefined; name: string | undefined; json: string }>();
  let stopReason: string | undefined;
  let usage: ConverseSummary['usage'] = {
    inputTokens: undefined,
    outputTokens: undefined,
    totalTokens: undefined,
  };
  for await (const event of response.stream ?? []) {
    if (event.contentBlockStart?.start?.toolUse) {
      const { toolUseId, name } = event.contentBlockStart.start.toolUse;
      tools.set(event.contentBlockStart.contentBlockIndex ?? 0, { toolUseId, name, json: '' });
    }
    if (event.contentBlockDelta) {
      const { delta, contentBlockIndex = 0 } = event.contentBlockDelta;
      if (delta?.text !== undefined) text += delta.text;
      const tool = tools.get(contentBlockIndex);
      if (delta?.toolUse?.input !== undefined && tool) tool.json += delta.toolUse.input;
    }
    if (event.messageStop) stopReason = event.messageStop.stopReason;
    if (event.metadata?.usage) {
      const u = event.metadata.usage;
      usage = { inputTokens: u.inputTokens, outputTokens: u.outputTokens, totalTokens: u.totalTokens };
    }
  }
  return {
    text,
    toolUses: [...tools.values()].map((t) => ({
      toolUseId: t.toolUseId,
      name: t.name,
      input: JSON.parse(t.json || '{}'),
    })),
    stopReason,
    usage,
  };
}

export async function converse(
  client: BedrockRuntimeClient,
  input: ConverseCommandInput,
): Promise<ConverseSummary> {
  return summarizeConverse(await client.send(new ConverseCommand(input)));
}

/** Entries are written after the answer ended: give the store a moment. */
export const settle = () => sleep(40);

export function bedrockPath(modelId: string, operation: string): string {
  return `/model/${encodeURIComponent(modelId)}/${operation}`;
}
