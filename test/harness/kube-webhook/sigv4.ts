import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * An independent SigV4 check of a presigned GET URL, written from the AWS "Signature Version 4
 * signing process" documentation rather than with the SDK signer, so the test webhook does what
 * STS does with an EKS token: recompute the signature from the URL, the signed header values the
 * verifier supplies (its own cluster name as `x-k8s-aws-id`) and the caller's secret key.
 */

/** The parts of `X-Amz-Credential`: `<access key id>/<yyyymmdd>/<region>/<service>/aws4_request`. */
export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/** Hash of an empty payload: a presigned GET has no body, and the SDK signs it as such. */
const EMPTY_PAYLOAD_SHA256 = createHash('sha256').update('').digest('hex');

/** Parses `X-Amz-Credential`; `undefined` when malformed. */
export function parseCredentialScope(credential: string): CredentialScope | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1])) return undefined;
  return { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3] };
}

/**
 * Whether `url` carries a valid SigV4 query signature made with `secretAccessKey`, given the values
 * of the signed headers other than `host` (which is taken from the URL). A signed header with no
 * value supplied fails the check, as it would at STS.
 */
export function verifyPresignedGet(url: URL, secretAccessKey: string, headerValues: Record<string, string>): boolean {
  const params = [...url.searchParams.entries()];
  const get = (name: string) => params.find(([k]) => k === name)?.[1];
  const signature = get('X-Amz-Signature');
  const amzDate = get('X-Amz-Date');
  const credential = get('X-Amz-Credential');
  const signedHeaders = get('X-Amz-SignedHeaders');
  if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !signature || !amzDate || !credential || !signedHeaders) return false;
  const scope = parseCredentialScope(credential);
  if (!scope || !amzDate.startsWith(scope.date)) return false;

  const values: Record<string, string> = { ...lowerKeys(headerValues), host: url.host };
  const headerNames = signedHeaders.split(';');
  if (headerNames.some((h) => values[h] === undefined) || [...headerNames].sort().join(';') !== signedHeaders) return false;

  const canonicalQuery = params
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    'GET',
    url.pathname || '/',
    canonicalQuery,
    headerNames.map((h) => `${h}:${values[h].trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders,
    EMPTY_PAYLOAD_SHA256,
  ].join('\n');
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, scope.date);
  for (const part of [scope.region, scope.service, 'aws4_request']) key = hmac(key, part);
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const actual = Buffer.from(signature);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SigV4 URI encoding: RFC 3986 unreserved characters stay, everything else is %XX (upper case). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function lowerKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}
