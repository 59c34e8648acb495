import * as fs from 'node:fs';
import * as path from 'node:path';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ExchangeObserver, FaultProxy, ObservedRequest, ObservedResponse } from './fault-proxy';

/** moto's default account: every call signed with the `testing` access key is made in it. */
export const MOTO_ACCOUNT = '123456789012';
/** The access key the handlers under test sign with by default; other keys are assumed roles' credentials. */
const HANDLER_ACCESS_KEY = 'testing';
/**
 * Placeholder for the random six-character suffix of a secret that does not exist (AWS evaluates
 * a request on a missing secret against an ARN built from the name it was given).
 */
export const MISSING_SECRET_SUFFIX = '-Missng';

/** KMS key a call used, resolved against the emulator: its ARN and aliases (for `kms:ResourceAliases`). */
export interface RecordedKey {
  readonly arn: string;
  readonly aliases: string[];
}

/**
 * One AWS API call a handler made, as IAM sees it: what the fault proxy forwarded, with the state
 * of the resource before the call (its tags and KMS key) looked up in the emulator.
 */
export interface RecordedCall {
  /** IAM action, e.g. `secretsmanager:CreateSecret`. */
  readonly action: string;
  readonly region: string;
  /** Resource ARN the call is authorized against; `*` for actions without resource-level permissions. */
  readonly resource: string;
  /** Tags of the resource before the call; absent when the resource did not exist. */
  readonly resourceTags?: Record<string, string>;
  /** Tags the request sets (`aws:RequestTag/*`, `aws:TagKeys`). */
  readonly requestTags?: Record<string, string>;
  /** Tag keys the request removes (`aws:TagKeys` of UntagResource). */
  readonly removedTagKeys?: string[];
  /** Context keys the request carries besides tags (e.g. the Route 53 change-batch keys). */
  readonly context?: Record<string, string | string[]>;
  /** KMS key Secrets Manager uses on the caller's behalf for this call (customer managed keys only). */
  readonly kmsKey?: RecordedKey;
  /** True when the call writes a secret value (so Secrets Manager generates a data key). */
  readonly writesValue?: boolean;
  /** Secrets a BatchGetSecretValue returned: each is authorized as GetSecretValue on it. */
  readonly batchSecrets?: Array<{ arn: string; tags: Record<string, string>; kmsKey?: RecordedKey }>;
  /** The emulator's error code, when the call failed. */
  readonly errorCode?: string;
  /** `handler`, or `assumed-role` for calls made with credentials the handler obtained from sts:AssumeRole. */
  readonly principal: 'handler' | 'assumed-role';
  /** The test that was running when the call was made. */
  readonly test?: string;
}

/**
 * Records every AWS call that passes through a fault proxy, for the offline IAM evaluation
 * (test/harness/iam-evaluation.ts). Resource state is read from moto directly (not through the
 * proxy), so the lookups are not recorded themselves.
 *
 * @example
 * const recorder = new IamRecorder(moto.endpoint);
 * recorder.attach(proxy);
 * // ... run the handler ...
 * const calls = await recorder.calls();
 */
export class IamRecorder {
  private readonly recorded: RecordedCall[] = [];
  private readonly pending: Array<Promise<void>> = [];
  private readonly secretsClients = new Map<string, SecretsManagerClient>();
  private readonly kmsClients = new Map<string, KMSClient>();

  /**
   * @param motoEndpoint moto itself (not the proxy), for the lookups of resource state
   * @param handlerAccessKeyId the access key the handler signs with; calls signed with another key
   *   are an assumed role's and are not evaluated against the handler's role
   */
  constructor(private readonly motoEndpoint: string, private readonly handlerAccessKeyId: string = HANDLER_ACCESS_KEY) {}

  /** Starts recording the calls `proxy` forwards. */
  public attach(proxy: FaultProxy): void {
    const observer: ExchangeObserver = {
      before: (request) => this.before(request),
      after: (request, response, before) => {
        this.pending.push(this.after(request, response, before as BeforeState).catch((e: Error) => {
          this.recorded.push({ action: 'recorder:Error', region: request.id.region, resource: e.message, principal: 'handler' });
        }));
      },
    };
    proxy.observe(observer);
  }

  /** Every call recorded so far, once their lookups have finished. */
  public async calls(): Promise<RecordedCall[]> {
    await Promise.all(this.pending);
    return [...this.recorded];
  }

  /** Writes the calls as JSON lines (one call a line) to `file`, for inspection. */
  public async writeJsonLines(file: string): Promise<void> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, (await this.calls()).map((c) => JSON.stringify(c)).join('\n') + '\n');
  }

  private async before(request: ObservedRequest): Promise<BeforeState> {
    const principal = accessKeyOf(request) === this.handlerAccessKeyId ? 'handler' : 'assumed-role';
    if (principal !== 'handler' || request.id.service !== 'secretsmanager') return { principal };
    const body = jsonBody(request);
    const secretId = typeof body.SecretId === 'string' ? body.SecretId : typeof body.Name === 'string' ? body.Name : undefined;
    if (!secretId) return { principal };
    return { principal, secret: await this.describeSecret(request.id.region, secretId) };
  }

  private async after(request: ObservedRequest, response: ObservedResponse, before: BeforeState): Promise<void> {
    const { region, service, operation } = request.id;
    const test = currentTestName();
    const errorCode = response.status >= 300 ? errorCodeOf(response) : undefined;
    const base = { region, principal: before.principal, test, ...(errorCode ? { errorCode } : {}) };
    const record = (call: Omit<RecordedCall, 'region' | 'principal'>) => this.recorded.push({ ...base, ...call });

    switch (service) {
      case 'secretsmanager': {
        const body = jsonBody(request);
        const out = errorCode ? {} : jsonOf(response.body);
        const action = `secretsmanager:${operation}`;
        if (operation === 'ListSecrets' || operation === 'GetRandomPassword') {
          record({ action, resource: '*' });
        } else if (operation === 'BatchGetSecretValue') {
          const values: Array<{ ARN: string }> = out.SecretValues ?? [];
          const batchSecrets = before.principal === 'handler'
            ? await Promise.all(values.map(async (v) => {
              const state = await this.describeSecret(region, v.ARN);
              return { arn: v.ARN, tags: state?.tags ?? {}, ...(state?.kmsKey ? { kmsKey: state.kmsKey } : {}) };
            }))
            : [];
          record({ action, resource: '*', batchSecrets });
        } else {
          const secretId: string = body.SecretId ?? body.Name;
          const resource = before.secret?.arn ?? out.ARN ?? secretArnFor(region, secretId);
          const requestTags = operation === 'CreateSecret' || operation === 'TagResource' ? tagMap(body.Tags) : undefined;
          const newKey = typeof body.KmsKeyId === 'string' && body.KmsKeyId !== '' ? await this.resolveKey(region, body.KmsKeyId) : undefined;
          const kmsKey = newKey ?? before.secret?.kmsKey;
          const writesValue = body.SecretString !== undefined || body.SecretBinary !== undefined;
          record({
            action,
            resource,
            ...(before.secret ? { resourceTags: before.secret.tags } : {}),
            ...(requestTags ? { requestTags } : {}),
            ...(operation === 'UntagResource' ? { removedTagKeys: body.TagKeys ?? [] } : {}),
            ...(kmsKey ? { kmsKey } : {}),
            ...(writesValue ? { writesValue } : {}),
          });
        }
        return;
      }
      case 'ssm': {
        const body = jsonBody(request);
        const action = `ssm:${operation}`;
        const names: string[] = operation === 'GetParameters' ? body.Names ?? []
          : operation === 'GetParametersByPath' ? [body.Path] : body.Name !== undefined ? [body.Name] : body.ResourceId !== undefined ? [body.ResourceId] : [];
        if (names.length === 0) {
          record({ action, resource: '*' });
          return;
        }
        for (const name of names) {
          const requestTags = operation === 'AddTagsToResource' || operation === 'PutParameter' ? tagMap(body.Tags) : undefined;
          record({ action, resource: parameterArn(region, name), ...(requestTags && Object.keys(requestTags).length ? { requestTags } : {}) });
        }
        return;
      }
      case 'kms': {
        const body = jsonBody(request);
        const key = body.KeyId ? await this.resolveKey(region, body.KeyId) : undefined;
        record({ action: `kms:${operation}`, resource: key?.arn ?? '*', ...(key ? { kmsKey: key } : {}) });
        return;
      }
      case 'sts': {
        const form = new URLSearchParams(request.body.toString('utf8'));
        record({ action: `sts:${operation}`, resource: form.get('RoleArn') ?? '*' });
        return;
      }
      case 's3': {
        const { bucket, key } = s3Location(request);
        const action = request.method === 'PUT' && key ? 's3:PutObject' : request.method === 'GET' && key ? 's3:GetObject' : `s3:${request.method}`;
        record({ action, resource: key ? `arn:aws:s3:::${bucket}/${key}` : `arn:aws:s3:::${bucket}` });
        return;
      }
      case 'route53': {
        record(route53Call(request));
        return;
      }
      default:
        record({ action: `${service}:${operation}`, resource: '*' });
    }
  }

  private async describeSecret(region: string, secretId: string): Promise<SecretState | undefined> {
    try {
      const d = await this.secrets(region).send(new DescribeSecretCommand({ SecretId: secretId }));
      const kmsKey = d.KmsKeyId ? await this.resolveKey(region, d.KmsKeyId) : undefined;
      return { arn: d.ARN!, tags: tagMap(d.Tags), ...(kmsKey ? { kmsKey } : {}) };
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }

  /** Resolves a key id, ARN, alias name or alias ARN; `undefined` for the AWS managed `aws/secretsmanager`. */
  private async resolveKey(region: string, keyId: string): Promise<RecordedKey | undefined> {
    if (/^(arn:[^:]+:kms:[^:]+:\d+:)?alias\/aws\//.test(keyId)) return undefined;
    const kms = this.kms(region);
    const described = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const meta = described.KeyMetadata!;
    if (meta.KeyManager === 'AWS') return undefined;
    const aliases = (await kms.send(new ListAliasesCommand({ KeyId: meta.KeyId }))).Aliases ?? [];
    return { arn: meta.Arn!, aliases: aliases.map((a) => a.AliasName!).filter(Boolean) };
  }

  private secrets(region: string): SecretsManagerClient {
    let client = this.secretsClients.get(region);
    if (!client) {
      client = new SecretsManagerClient({ region, endpoint: this.motoEndpoint, credentials: { accessKeyId: HANDLER_ACCESS_KEY, secretAccessKey: 'testing' } });
      this.secretsClients.set(region, client);
    }
    return client;
  }

  private kms(region: string): KMSClient {
    let client = this.kmsClients.get(region);
    if (!client) {
      client = new KMSClient({ region, endpoint: this.motoEndpoint, credentials: { accessKeyId: HANDLER_ACCESS_KEY, secretAccessKey: 'testing' } });
      this.kmsClients.set(region, client);
    }
    return client;
  }
}

interface SecretState {
  readonly arn: string;
  readonly tags: Record<string, string>;
  readonly kmsKey?: RecordedKey;
}

interface BeforeState {
  readonly principal: 'handler' | 'assumed-role';
  readonly secret?: SecretState;
}

/** ARN of a secret given by name or ARN; a missing secret's name gets {@link MISSING_SECRET_SUFFIX}. */
export function secretArnFor(region: string, secretId: string): string {
  return secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:${region}:${MOTO_ACCOUNT}:secret:${secretId}${MISSING_SECRET_SUFFIX}`;
}

/** ARN of a parameter (or path): names are given with their leading `/`, ARNs have one `/` after `parameter`. */
export function parameterArn(region: string, name: string): string {
  if (name.startsWith('arn:')) return name;
  return `arn:aws:ssm:${region}:${MOTO_ACCOUNT}:parameter/${name.replace(/^\//, '')}`;
}

function route53Call(request: ObservedRequest): Omit<RecordedCall, 'region' | 'principal'> {
  const { pathname } = new URL(request.url, 'http://proxy.invalid');
  const zone = /\/hostedzone\/([^/]+)/.exec(pathname)?.[1];
  const zoneArn = zone ? `arn:aws:route53:::hostedzone/${zone}` : '*';
  if (/\/rrset\/?$/.test(pathname) && request.method === 'POST') {
    const xml = request.body.toString('utf8');
    const changes = [...xml.matchAll(/<Change>([\s\S]*?)<\/Change>/g)].map((m) => m[1]);
    const field = (change: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(change)?.[1] ?? '';
    return {
      action: 'route53:ChangeResourceRecordSets',
      resource: zoneArn,
      context: {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': changes.map((c) => field(c, 'Name').toLowerCase().replace(/\.$/, '')),
        'route53:ChangeResourceRecordSetsRecordTypes': changes.map((c) => field(c, 'Type')),
        'route53:ChangeResourceRecordSetsActions': changes.map((c) => field(c, 'Action')),
      },
    };
  }
  if (/\/rrset\/?$/.test(pathname)) return { action: 'route53:ListResourceRecordSets', resource: zoneArn };
  const change = /\/change\/([^/]+)/.exec(pathname)?.[1];
  if (change) return { action: 'route53:GetChange', resource: `arn:aws:route53:::change/${change}` };
  return { action: `route53:${request.method}`, resource: zoneArn };
}

function s3Location(request: ObservedRequest): { bucket: string; key?: string } {
  const host = String(request.headers.host ?? '');
  const { pathname } = new URL(request.url, 'http://proxy.invalid');
  const parts = decodeURIComponent(pathname).replace(/^\//, '').split('/');
  // Virtual-hosted style puts the bucket in the host name; path style in the first segment.
  const virtual = /^([^.]+)\.(127\.0\.0\.1|localhost)/.exec(host);
  if (virtual) return { bucket: virtual[1], key: parts.join('/') || undefined };
  return { bucket: parts[0], key: parts.slice(1).join('/') || undefined };
}

function accessKeyOf(request: ObservedRequest): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(String(request.headers.authorization ?? ''))?.[1];
}

function jsonBody(request: ObservedRequest): any {
  return request.id.protocol === 'json' ? jsonOf(request.body) : {};
}

function jsonOf(body: Buffer): any {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return {};
  }
}

function errorCodeOf(response: ObservedResponse): string {
  const header = response.headers['x-amzn-errortype'];
  if (typeof header === 'string') return header.split(':')[0];
  const text = response.body.toString('utf8');
  const json = jsonOf(response.body);
  if (typeof json.__type === 'string') return json.__type.split('#').pop()!;
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP${response.status}`;
}

function tagMap(tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

function currentTestName(): string | undefined {
  try {
    return (expect as any).getState?.().currentTestName;
  } catch {
    return undefined;
  }
}
