import type { IncomingHttpHeaders } from 'node:http';
import { credentialScope } from '../cache/key.js';
import type { SluiceConfig } from '../config.js';
import {
  type AwsCredentials,
  isSigV4Authorization,
  parseSigV4Authorization,
  type SignableRequest,
  signRequest,
  verifySignature,
} from './sigv4.js';
import type { UpstreamCall } from './upstream.js';

/**
 * Who a Bedrock client is, for its cache scope, and how its request is authorized upstream.
 *
 * - `Authorization: Bearer <Bedrock API key>`: forwarded as is; the key (hashed) is the scope.
 * - SigV4: the client's signature covers Sluice's host, so it cannot go upstream; Sluice signs
 *   again with its own credentials. An access key id is public (anyone can claim one), so it
 *   never separates tenants by itself:
 *   - no client key pairs configured: every SigV4 client is in ONE shared scope, unverified;
 *   - client key pairs configured: the signature is verified with the client's secret; a verified
 *     client gets its own scope, anything else is refused (403).
 */

export type BedrockClientCheck =
  { ok: true; scope: string } | { ok: false; status: 403; code: string; message: string };

/** The scope every unverified SigV4 client shares (see the README's tenant model). */
export const SHARED_SIGV4_SCOPE = 'aws-sigv4:shared';

export async function authenticateBedrockClient(
  config: SluiceConfig,
  request: { method: string; rawPath: string; search: string; headers: IncomingHttpHeaders; body: Buffer },
  now = Date.now(),
): Promise<BedrockClientCheck> {
  const authorization = headerValue(request.headers.authorization);
  if (authorization?.startsWith('Bearer ')) return { ok: true, scope: credentialScope(authorization) };
  if (!authorization) {
    return {
      ok: false,
      status: 403,
      code: 'missing_authentication',
      message:
        'Missing Authentication Token: send a SigV4 signature or Authorization: Bearer <Bedrock API key>.',
    };
  }
  if (!isSigV4Authorization(authorization)) {
    return {
      ok: false,
      status: 403,
      code: 'invalid_signature',
      message: 'Authorization must be AWS4-HMAC-SHA256 (SigV4) or Bearer.',
    };
  }
  if (!sluiceCredentials(config)) {
    return {
      ok: false,
      status: 403,
      code: 'no_upstream_credentials',
      message:
        'Sluice has no AWS credentials to sign this request upstream: configure bedrock.accessKeyId / bedrock.secretAccessKey (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or send a Bedrock API key as Authorization: Bearer.',
    };
  }
  const clients = config.bedrock.clients;
  if (clients.length === 0) return { ok: true, scope: SHARED_SIGV4_SCOPE };

  const parsed = parseSigV4Authorization(authorization);
  if (!parsed)
    return {
      ok: false,
      status: 403,
      code: 'invalid_signature',
      message: 'The SigV4 Authorization header is malformed.',
    };
  const client = clients.find((c) => c.accessKeyId === parsed.accessKeyId);
  if (!client) {
    return {
      ok: false,
      status: 403,
      code: 'unrecognized_client',
      message: 'The security token included in the request is invalid (unknown access key id).',
    };
  }
  const verdict = await verifySignature(signable(request, request.headers), parsed, client, now);
  if (!verdict.ok) return { ok: false, status: 403, code: verdict.code, message: verdict.message };
  return { ok: true, scope: credentialScope(`aws-sigv4-verified:${client.accessKeyId}`) };
}

function signable(
  request: { method: string; rawPath: string; search: string; body: Buffer },
  rawHeaders: IncomingHttpHeaders,
): SignableRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawHeaders)) {
    // Of the HTTP/2 pseudo-headers only :authority can be signed (the AWS SDK signs it instead of host).
    if (value === undefined || (name.startsWith(':') && name !== ':authority')) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const authority = headers[':authority'];
  if (headers.host === undefined && authority !== undefined) headers.host = authority;
  const [hostname = '', port] = (headers.host ?? '').split(':');
  return {
    method: request.method,
    protocol: 'http:',
    hostname,
    port: port === undefined ? undefined : Number(port),
    path: request.rawPath,
    search: request.search.replace(/^\?/, ''),
    headers,
    body: request.body,
  };
}

function sluiceCredentials(config: SluiceConfig): AwsCredentials | undefined {
  const { accessKeyId, secretAccessKey, sessionToken } = config.bedrock;
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Headers of the client's own signature: never forwarded once Sluice signs again. */
const CLIENT_SIGNING_HEADERS = [
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
];

/**
 * The upstream request's headers: a Bearer key goes as is; anything else is signed with Sluice's
 * credentials for the upstream's host (admission already refused SigV4 without them).
 */
export function bedrockUpstreamSigner(
  config: SluiceConfig,
): (call: UpstreamCall) => Promise<Record<string, string>> {
  const credentials = sluiceCredentials(config);
  return async (call) => {
    if (call.headers.authorization?.startsWith('Bearer ') || !credentials) return call.headers;
    const headers = { ...call.headers };
    for (const name of CLIENT_SIGNING_HEADERS) delete headers[name];
    const origin = new URL(call.upstream.origin);
    headers.host = origin.host;
    const [path = '/', search = ''] = call.path.split('?', 2);
    return signRequest(
      {
        method: call.method,
        protocol: origin.protocol,
        hostname: origin.hostname,
        port: origin.port === '' ? undefined : Number(origin.port),
        path,
        search,
        headers,
        body: call.body ?? Buffer.alloc(0),
      },
      credentials,
      config.bedrockRegion,
    );
  };
}
