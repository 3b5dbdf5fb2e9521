import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * How the mock Bedrock checks a request's SigV4 signature, as AWS would: recompute it with the
 * same signer library over the headers the request lists, at its x-amz-date, and compare.
 * Written apart from Sluice's own verifier on purpose, so a mistake there cannot hide here.
 */

export const MOCK_AWS_CREDENTIALS = {
  accessKeyId: 'AKIAMOCKUPSTREAM0001',
  secretAccessKey: 'mock-upstream-secret-key/0123456789abcdef',
};

export type AuthVerdict =
  { ok: true; kind: 'bearer' | 'sigv4' } | { ok: false; status: 403; exception: string; message: string };

export async function checkBedrockAuth(
  method: string,
  rawUrl: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<AuthVerdict> {
  const auth = typeof headers.authorization === 'string' ? headers.authorization : '';
  if (auth.startsWith('Bearer ') && auth.length > 'Bearer '.length) return { ok: true, kind: 'bearer' };
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!match) {
    return {
      ok: false,
      status: 403,
      exception: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  }
  const [, keyId, , region, service, signedHeaders, signature] = match as unknown as string[];
  if (keyId !== MOCK_AWS_CREDENTIALS.accessKeyId) {
    return {
      ok: false,
      status: 403,
      exception: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(headers['x-amz-date'] ?? ''));
  if (!date)
    return { ok: false, status: 403, exception: 'InvalidSignatureException', message: 'missing X-Amz-Date' };
  const [, y, mo, d, h, mi, s] = date.map(Number) as number[];
  const signingDate = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  const names = (signedHeaders as string).split(';');
  const signed: Record<string, string> = {};
  for (const name of names) signed[name] = String(headers[name] ?? '');
  const [path = '/', search = ''] = rawUrl.split('?', 2);
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  const host = signed.host ?? '';
  const signer = new SignatureV4({
    credentials: MOCK_AWS_CREDENTIALS,
    region: region as string,
    service: service as string,
    sha256: Sha256,
  });
  const resigned = await signer.sign(
    { method, protocol: 'http:', hostname: host.split(':')[0] ?? '', path, query, headers: signed, body },
    { signingDate, signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(resigned.headers.authorization ?? '')?.[1];
  if (expected !== signature) {
    return {
      ok: false,
      status: 403,
      exception: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return { ok: true, kind: 'sigv4' };
}
