import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * AWS Signature Version 4 through the maintained signer (@smithy/signature-v4): signing Sluice's
 * upstream requests, and verifying a client's signature by signing the same request again with
 * the client's configured secret.
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface SignableRequest {
  method: string;
  /** 'https:' or 'http:' */
  protocol: string;
  hostname: string;
  port?: number | undefined;
  /** As sent on the wire, percent-encoding included. */
  path: string;
  /** Raw query string without '?', or ''. */
  search: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The signing service of Bedrock Runtime. */
export const BEDROCK_SIGNING_SERVICE = 'bedrock';

export async function signRequest(
  request: SignableRequest,
  credentials: AwsCredentials,
  region: string,
  options: { signingDate?: Date; signableHeaders?: Set<string> } = {},
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials, region, service: BEDROCK_SIGNING_SERVICE, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.protocol,
      hostname: request.hostname,
      ...(request.port === undefined ? {} : { port: request.port }),
      path: request.path,
      query: parseQuery(request.search),
      headers: { ...request.headers },
      body: request.body,
    },
    options,
  );
  return signed.headers;
}

function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    const prev = query[name];
    query[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return query;
}

/** The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header. */
export interface SigV4Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;

export function parseSigV4Authorization(value: string): SigV4Authorization | undefined {
  const match = AUTH_PATTERN.exec(value);
  if (!match) return undefined;
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  return {
    accessKeyId: accessKeyId as string,
    date: date as string,
    region: region as string,
    service: service as string,
    signedHeaders: (signedHeaders as string).split(';'),
    signature: signature as string,
  };
}

export function isSigV4Authorization(value: string | undefined): boolean {
  return typeof value === 'string' && value.startsWith('AWS4-HMAC-SHA256');
}

/** `20250102T030405Z` as a Date, or undefined. */
export function parseAmzDate(value: string | undefined): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
}

export type VerifyResult =
  { ok: true } | { ok: false; code: 'invalid_signature' | 'signature_expired'; message: string };

/** AWS accepts a signature for 15 minutes either side of its x-amz-date. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/**
 * Whether `request` carries a valid signature by `credentials`: the request is signed again over
 * exactly the headers the client listed, at the client's x-amz-date, and the signatures compared.
 */
export async function verifySignature(
  request: SignableRequest,
  authorization: SigV4Authorization,
  credentials: AwsCredentials,
  now = Date.now(),
): Promise<VerifyResult> {
  const signingDate = parseAmzDate(request.headers['x-amz-date']);
  if (!signingDate)
    return { ok: false, code: 'invalid_signature', message: 'the request has no valid X-Amz-Date header' };
  if (Math.abs(now - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    return {
      ok: false,
      code: 'signature_expired',
      message: 'Signature expired: X-Amz-Date is more than 15 minutes from now',
    };
  }
  const declaredHash = request.headers['x-amz-content-sha256'];
  if (
    declaredHash !== undefined &&
    declaredHash !== 'UNSIGNED-PAYLOAD' &&
    declaredHash !== createHash('sha256').update(request.body).digest('hex')
  ) {
    return {
      ok: false,
      code: 'invalid_signature',
      message: 'X-Amz-Content-SHA256 does not match the request body',
    };
  }
  const headers: Record<string, string> = {};
  for (const name of authorization.signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) {
      return {
        ok: false,
        code: 'invalid_signature',
        message: `signed header ${name} is missing from the request`,
      };
    }
    headers[name] = value;
  }
  const signed = await signRequest({ ...request, headers }, credentials, authorization.region, {
    signingDate,
    signableHeaders: new Set(authorization.signedHeaders),
  });
  const expected = parseSigV4Authorization(signed.authorization ?? '');
  const same =
    expected !== undefined &&
    expected.signedHeaders.join(';') === authorization.signedHeaders.join(';') &&
    timingSafeEqual(Buffer.from(expected.signature), Buffer.from(authorization.signature));
  return same
    ? { ok: true }
    : {
        ok: false,
        code: 'invalid_signature',
        message:
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      };
}
