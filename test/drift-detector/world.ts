import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, PutParameterCommand, ParameterType, SSMClient } from '@aws-sdk/client-ssm';
import Ajv2020 from 'ajv/dist/2020';
import { REPO_ROOT } from '../harness/moto';
import { SecretsWorld } from '../harness/world';

/** Secrets, parameters, KMS keys and report objects in several regions of one emulator. */
export class ConfigWorld extends SecretsWorld {
  private readonly ssmClients = new Map<string, SSMClient>();

  constructor(private readonly motoEndpoint: string) {
    super(motoEndpoint);
  }

  private config(region: string) {
    return { region, endpoint: this.motoEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 3 };
  }

  ssm(region: string): SSMClient {
    let c = this.ssmClients.get(region);
    if (!c) {
      c = new SSMClient(this.config(region));
      this.ssmClients.set(region, c);
    }
    return c;
  }

  s3(region: string): S3Client {
    return new S3Client({ ...this.config(region), forcePathStyle: true });
  }

  async putParameter(region: string, name: string, value: string, type: ParameterType = 'String'): Promise<void> {
    await this.ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true }));
  }

  async parameter(region: string, name: string): Promise<{ value?: string; type?: string } | undefined> {
    try {
      const got = await this.ssm(region).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      return { value: got.Parameter?.Value, type: got.Parameter?.Type };
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  async createKey(region: string): Promise<string> {
    const out = await new KMSClient(this.config(region)).send(new CreateKeyCommand({ Description: 'replica key' }));
    return out.KeyMetadata!.Arn!;
  }

  async createBucket(region: string, bucket: string): Promise<void> {
    await this.s3(region).send(new CreateBucketCommand({ Bucket: bucket }));
  }

  async objectText(region: string, bucket: string, key: string): Promise<string> {
    const got = await this.s3(region).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return got.Body!.transformToString();
  }

  async keys(region: string, bucket: string, prefix: string): Promise<string[]> {
    const out = await this.s3(region).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key!);
  }
}

/** Validates a report against the published JSON Schema; returns the errors (empty when valid). */
export function reportSchemaErrors(report: unknown): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const schema = require(`${REPO_ROOT}/schemas/drift-report.schema.json`);
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validate = ajv.compile(schema);
  return validate(report) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}
