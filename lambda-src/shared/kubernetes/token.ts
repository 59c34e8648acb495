import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

/** Prefix of every EKS (aws-iam-authenticator) bearer token. */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

/** Header that binds a token to one cluster: signed, so a token for one cluster fails on another. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/**
 * X-Amz-Expires of the presigned URL. STS ignores it (a presigned GetCallerIdentity is valid for
 * 15 minutes after X-Amz-Date whatever it says); 60 is what aws-iam-authenticator and the AWS CLI
 * send, and what older authenticator servers insist on (0 to 60).
 */
export const PRESIGN_EXPIRES_SECONDS = 60;

/** The STS API version of GetCallerIdentity. */
const STS_API_VERSION = '2011-06-15';

/** Where the SDK would send an STS request: scheme, host, port and path, without query. */
export interface StsEndpoint {
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
}

/** A minted token and what bounds its life. */
export interface EksToken {
  /** `k8s-aws-v1.` + base64url (no padding) of the presigned STS URL. A credential: never log it. */
  readonly token: string;
  /** X-Amz-Date of the presigned URL. */
  readonly signedAt: Date;
  /** When the signing credentials expire, if they do; the token is useless after that. */
  readonly credentialsExpireAt?: Date;
}

/** What {@link eksToken} needs. */
export interface EksTokenRequest {
  /** STS client of the cluster's region, normally `clients.get(STSClient, { region })`. */
  readonly sts: STSClient;
  /** EKS cluster name, signed as the `x-k8s-aws-id` header. */
  readonly clusterName: string;
  /** Signing time (X-Amz-Date). @default - now */
  readonly signingDate?: Date;
}

/**
 * Mints an EKS bearer token the way aws-iam-authenticator and `aws eks get-token` do: a SigV4
 * presigned `GET ?Action=GetCallerIdentity&Version=2011-06-15` for the STS endpoint the SDK would
 * use in the client's region, with the cluster name signed as `x-k8s-aws-id`, base64url-encoded
 * without padding behind `k8s-aws-v1.`. The cluster's authenticator replays the URL against STS
 * (adding its own cluster name as the header) to learn the caller's IAM identity.
 *
 * Credentials are those of the STS client (its own provider chain or assumed role). Nothing is sent
 * to STS here: the client's middleware stack is only used to resolve the endpoint.
 *
 * @example
 * const { token } = await eksToken({ sts: clients.get(STSClient, { region: 'eu-west-1' }), clusterName: 'prod' });
 */
export async function eksToken(request: EksTokenRequest): Promise<EksToken> {
  const { sts, clusterName } = request;
  const signingDate = request.signingDate ?? new Date();
  const [endpoint, credentials, region] = await Promise.all([
    resolveStsEndpoint(sts),
    sts.config.credentials(),
    sts.config.region(),
  ]);
  const url = await presignGetCallerIdentity({ endpoint, credentials, region, clusterName, signingDate });
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    signedAt: signingDate,
    ...(credentials.expiration ? { credentialsExpireAt: credentials.expiration } : {}),
  };
}

/** Inputs of {@link presignGetCallerIdentity}. */
export interface PresignRequest {
  readonly endpoint: StsEndpoint;
  readonly credentials: AwsCredentialIdentity;
  readonly region: string;
  readonly clusterName: string;
  readonly signingDate: Date;
}

/** The presigned STS GetCallerIdentity URL for `clusterName` (the body of an EKS token). */
export async function presignGetCallerIdentity(request: PresignRequest): Promise<string> {
  const { endpoint, credentials, region, clusterName, signingDate } = request;
  if (!clusterName) throw new Error('an EKS token needs a cluster name');
  const host = endpoint.port ? `${endpoint.hostname}:${endpoint.port}` : endpoint.hostname;
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Hash.bind(null, 'sha256') });
  const presigned = await signer.presign(new HttpRequest({
    method: 'GET',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port,
    path: endpoint.path,
    query: { Action: 'GetCallerIdentity', Version: STS_API_VERSION },
    // Both are signed: `host` as in every SigV4 request, the cluster id so the token is bound to it.
    headers: { host, [CLUSTER_ID_HEADER]: clusterName },
  }), { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate });

  const query = Object.entries(presigned.query ?? {})
    .map(([name, value]) => `${encodeRfc3986(name)}=${encodeRfc3986(String(value))}`)
    .join('&');
  return `${endpoint.protocol}//${host}${endpoint.path}?${query}`;
}

/**
 * The endpoint the SDK would send `GetCallerIdentity` to, resolved by the client itself, so every
 * standard setting applies: the region's regional endpoint (`https://sts.<region>.amazonaws.com`,
 * or the partition's equivalent), FIPS/dual-stack flags, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`
 * and the shared config file. The command stops at the build step: nothing is signed or sent.
 */
export async function resolveStsEndpoint(sts: STSClient): Promise<StsEndpoint> {
  const command = new GetCallerIdentityCommand({});
  let captured: HttpRequest | undefined;
  command.middlewareStack.add(
    (_next) => async (args) => {
      captured = args.request as HttpRequest;
      return { output: { $metadata: {} } as any, response: undefined };
    },
    { step: 'build', priority: 'low', name: 'captureStsEndpointForEksToken' },
  );
  await sts.send(command);
  if (!captured?.hostname) throw new Error('could not resolve the STS endpoint');
  return {
    protocol: captured.protocol || 'https:',
    hostname: captured.hostname,
    ...(captured.port ? { port: captured.port } : {}),
    path: captured.path || '/',
  };
}

/** encodeURIComponent plus the RFC 3986 reserved characters it leaves alone (SigV4 encoding). */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
