import * as http from 'node:http';
import * as net from 'node:net';
import { parseCredentialScope, verifyPresignedGet } from './sigv4';

/**
 * A stand-in for the EKS authenticator (aws-iam-authenticator) as a kube-apiserver TokenReview
 * webhook (`--authentication-token-webhook-config-file`), backed by moto for STS.
 *
 * For each `k8s-aws-v1.` token it does what EKS does: decode the presigned STS GetCallerIdentity
 * URL, check its shape and age (15 minutes after X-Amz-Date, like EKS; X-Amz-Expires must be
 * 0..900 but is otherwise ignored, as STS ignores it), check the SigV4 signature with THIS
 * cluster's name as the `x-k8s-aws-id` header value (so a token minted for another cluster fails
 * here), then replay the GET against STS (moto) and map the returned ARN to a Kubernetes user:
 * `arn:aws:sts::ACCT:assumed-role/NAME/SESSION` becomes `arn:aws:iam::ACCT:role/NAME`, as EKS access
 * entries name roles.
 *
 * Two places differ from AWS, because moto is not STS:
 * - moto verifies no signature, so the webhook checks it itself with the secret keys in an
 *   {@link StsKeyring} (real STS knows every secret; a test registers the credentials it issues).
 * - moto reads the caller only from an `Authorization` header, not from query-string SigV4, so the
 *   replayed GET also carries the URL's own credential, signed headers and signature in that header
 *   (the same signature, in the equivalent header form).
 * The URL must point at the configured moto endpoint (EKS only accepts STS hosts of its partition);
 * it is the only host the webhook ever calls.
 */

/** Secret keys of the credentials tests hand out: what STS knows and moto does not check. */
export class StsKeyring {
  private readonly secrets = new Map<string, string>();

  /** Registers credentials so tokens signed with them can be verified. */
  register(credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }): void {
    this.secrets.set(credentials.accessKeyId, credentials.secretAccessKey);
  }

  /** Forgets credentials: tokens signed with them fail as if the key had been deleted. */
  revoke(accessKeyId: string): void {
    this.secrets.delete(accessKeyId);
  }

  secretFor(accessKeyId: string): string | undefined {
    return this.secrets.get(accessKeyId);
  }
}

/** One TokenReview as the webhook decided it. Holds no token. */
export interface ReviewRecord {
  readonly authenticated: boolean;
  /** Why a token was refused (e.g. `SignatureDoesNotMatch`, `Expired`); undefined when accepted. */
  readonly reason?: string;
  readonly username?: string;
  /** X-Amz-Date of the token, when it could be read. */
  readonly signedAt?: Date;
}

/** Options of {@link startTokenWebhook}. */
export interface TokenWebhookOptions {
  /** The EKS cluster name this webhook authenticates for (the expected `x-k8s-aws-id`). */
  readonly clusterName: string;
  /** moto's base URL: the STS the tokens must point at. */
  readonly stsEndpoint: string;
  readonly keyring: StsKeyring;
}

/** A running webhook; see {@link startTokenWebhook}. */
export interface TokenWebhook {
  /** `http://127.0.0.1:<port>/authenticate`, for the apiserver's webhook kubeconfig. */
  readonly url: string;
  /** Every review, oldest first. */
  readonly reviews: ReviewRecord[];
  /** GetCallerIdentity calls made to moto. */
  readonly stsCalls: number;
  /** Moves the webhook's clock (ms, may be negative) to simulate token expiry. */
  setClockSkewMs(ms: number): void;
  /**
   * Puts the principal `arn` (canonical, as the username) in Kubernetes `groups`, as an EKS access
   * entry's `kubernetesGroups` do; every principal is also in `system:authenticated`. The apiserver
   * caches a successful review for 10 s: set the groups before the principal's first request.
   */
  setKubernetesGroups(arn: string, groups: readonly string[]): void;
  /** Reviews one token directly (the same logic the apiserver gets over HTTP). */
  review(token: string): Promise<ReviewRecord>;
  stop(): Promise<void>;
}

const TOKEN_PREFIX = 'k8s-aws-v1.';
/** aws-iam-authenticator's limit on a token (bytes). */
const MAX_TOKEN_BYTES = 4 * 1024;
/** STS accepts a presigned GetCallerIdentity URL for 15 minutes after X-Amz-Date. */
const TOKEN_VALIDITY_MS = 15 * 60_000;
/** STS also refuses a signature dated more than 15 minutes in the future (clock skew limit). */
const MAX_FUTURE_SKEW_MS = 15 * 60_000;
/** The query parameters aws-iam-authenticator allows in a token URL (lower case). */
const ALLOWED_PARAMS = new Set([
  'action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires',
  'x-amz-security-token', 'x-amz-signature', 'x-amz-signedheaders',
]);

/** Starts the webhook on a free 127.0.0.1 port. Plain HTTP: the apiserver calls it over loopback. */
export async function startTokenWebhook(options: TokenWebhookOptions): Promise<TokenWebhook> {
  const sts = new URL(options.stsEndpoint);
  const reviews: ReviewRecord[] = [];
  let skewMs = 0;
  let stsCalls = 0;
  const groupsOf = new Map<string, readonly string[]>();

  const review = async (token: string): Promise<ReviewRecord> => {
    const refuse = (reason: string, signedAt?: Date): ReviewRecord => ({ authenticated: false, reason, ...(signedAt ? { signedAt } : {}) });
    if (!token.startsWith(TOKEN_PREFIX) || token.length > MAX_TOKEN_BYTES) return refuse('NotAnEksToken');
    const encoded = token.slice(TOKEN_PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return refuse('NotBase64UrlWithoutPadding');
    let url: URL;
    try {
      url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
    } catch {
      return refuse('NotAUrl');
    }
    if (url.origin !== sts.origin) return refuse('UnexpectedStsHost');
    if (url.pathname !== '/') return refuse('UnexpectedPath');

    const params = new Map<string, string>();
    for (const [key, value] of url.searchParams) {
      const lower = key.toLowerCase();
      if (!ALLOWED_PARAMS.has(lower) || params.has(lower)) return refuse('UnexpectedQueryParameter');
      params.set(lower, value);
    }
    if (params.get('action') !== 'GetCallerIdentity') return refuse('UnexpectedAction');
    if (!(params.get('x-amz-signedheaders') ?? '').toLowerCase().split(';').includes('x-k8s-aws-id')) return refuse('ClusterIdNotSigned');
    const expires = Number(params.get('x-amz-expires'));
    if (!Number.isInteger(expires) || expires < 0 || expires > 900) return refuse('InvalidExpires');
    const signedAt = parseAmzDate(params.get('x-amz-date') ?? '');
    if (!signedAt) return refuse('InvalidDate');
    const now = Date.now() + skewMs;
    if (now > signedAt.getTime() + TOKEN_VALIDITY_MS) return refuse('Expired', signedAt);
    if (signedAt.getTime() > now + MAX_FUTURE_SKEW_MS) return refuse('NotYetValid', signedAt);

    const scope = parseCredentialScope(params.get('x-amz-credential') ?? '');
    if (!scope || scope.service !== 'sts') return refuse('InvalidCredentialScope', signedAt);
    const secret = options.keyring.secretFor(scope.accessKeyId);
    if (!secret) return refuse('InvalidClientTokenId', signedAt);
    if (!verifyPresignedGet(url, secret, { 'x-k8s-aws-id': options.clusterName })) return refuse('SignatureDoesNotMatch', signedAt);

    stsCalls++;
    const identity = await getCallerIdentity(url, params, options.clusterName).catch(() => undefined);
    if (!identity) return refuse('StsCallFailed', signedAt);
    return { authenticated: true, username: canonicalArn(identity.arn), signedAt };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let body: any;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(400).end();
          return;
        }
        const token = typeof body?.spec?.token === 'string' ? body.spec.token : '';
        const record = await review(token).catch(() => ({ authenticated: false, reason: 'WebhookError' }) as ReviewRecord);
        reviews.push(record);
        const status = record.authenticated
          ? {
            authenticated: true,
            user: {
              username: record.username,
              uid: `aws-iam-authenticator:${record.username}`,
              groups: ['system:authenticated', ...groupsOf.get(record.username!) ?? []],
              extra: { canonicalArn: [record.username] },
            },
          }
          : { authenticated: false, error: record.reason };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: body.apiVersion ?? 'authentication.k8s.io/v1', kind: 'TokenReview', status }));
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/authenticate`,
    reviews,
    get stsCalls() {
      return stsCalls;
    },
    setClockSkewMs: (ms: number) => {
      skewMs = ms;
    },
    setKubernetesGroups: (arn: string, groups: readonly string[]) => {
      groupsOf.set(arn, [...groups]);
    },
    review,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Replays the presigned GET against moto with the verifier's cluster name as `x-k8s-aws-id` (as
 * EKS does) and reads the caller's ARN from the answer (JSON, or moto's XML).
 */
async function getCallerIdentity(url: URL, params: Map<string, string>, clusterName: string): Promise<{ arn: string } | undefined> {
  const headers: Record<string, string> = {
    'x-k8s-aws-id': clusterName,
    'accept': 'application/json',
    // moto finds the caller only in this header; it is the URL's own signature in header form.
    'authorization': `AWS4-HMAC-SHA256 Credential=${params.get('x-amz-credential')}, SignedHeaders=${params.get('x-amz-signedheaders')}, Signature=${params.get('x-amz-signature')}`,
    'x-amz-date': params.get('x-amz-date') ?? '',
  };
  const sessionToken = params.get('x-amz-security-token');
  if (sessionToken) headers['x-amz-security-token'] = sessionToken;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers, agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('timeout', () => req.destroy(new Error('STS call timed out')));
    req.once('error', reject);
    req.end();
  });
  if (status !== 200) return undefined;
  let arn: string | undefined;
  try {
    arn = JSON.parse(body)?.GetCallerIdentityResponse?.GetCallerIdentityResult?.Arn;
  } catch {
    arn = /<Arn>([^<]+)<\/Arn>/.exec(body)?.[1];
  }
  return arn ? { arn } : undefined;
}

/** `arn:aws:sts::ACCT:assumed-role/NAME/SESSION` → `arn:aws:iam::ACCT:role/NAME`; other ARNs unchanged. */
export function canonicalArn(arn: string): string {
  const match = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : arn;
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}
