import { CONFIGMAP_FIELD_MANAGER } from '../../src/drift-detector/contract';
import { Drift } from '../shared/comparison/model';

/** The AWS partition of a region, for ARNs. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

/** What guidance needs to know about the deployment. */
export interface GuidanceContext {
  /** Account of the clusters (the stack's), for kubectl contexts named like `aws eks update-kubeconfig` names them. */
  readonly account?: string;
  /** KMS key replicas in a region are expected to use, by region. */
  readonly replicaKeys: ReadonlyMap<string, string>;
  /**
   * KMS key of SecureString replicas, by region, for `put-parameter --key-id`. A region without one:
   * the key is unknown and the command names a placeholder (never `aws/ssm` by omission).
   */
  readonly parameterReplicaKeys?: ReadonlyMap<string, string>;
  /** The primary's parameter type, by parameter name, for `put-parameter --type`. */
  readonly parameterTypes: ReadonlyMap<string, string>;
  /** The primary's parameter data type (`text`, `aws:ec2:image`, ...), by parameter name. */
  readonly parameterDataTypes?: ReadonlyMap<string, string>;
  /** `<region>\u0000<parameter name>` of the parameters with a declared value in that replica region. */
  readonly overriddenParameters?: ReadonlySet<string>;
  /** Names of the secrets whose value is binary (`SecretBinary`) in the primary. */
  readonly binarySecrets: ReadonlySet<string>;
  /** The ConfigMap data keys ignore rules keep out of a copy to `region`. */
  readonly ignoredConfigMapKeys: (name: string, region: string) => string[];
}

/** Remediation guidance: what to do, and the exact commands, never with a value in them. */
export function guidance(drift: Omit<Drift, 'remediation'>, context: GuidanceContext): { guidance: string; commands: string[] } {
  switch (drift.kind) {
    case 'secret': return secretGuidance(drift, context);
    case 'parameter': return parameterGuidance(drift, context);
    case 'configmap': return configMapGuidance(drift, context);
  }
}

/** Single-quotes a shell word. */
export function sh(word: string): string {
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(word) ? word : `'${word.replace(/'/g, '\'\\\'\'')}'`;
}

function secretGuidance(d: Omit<Drift, 'remediation'>, context: GuidanceContext) {
  const id = sh(d.name);
  // The value goes from one CLI call to the other through a pipe, never through a shell variable or
  // the command line. `jq -j` writes a string value exactly (`--output text` would add a newline);
  // a binary value travels base64-decoded through process substitution.
  const binary = context.binarySecrets.has(d.name);
  const get = `aws secretsmanager get-secret-value --region ${d.primaryRegion} --secret-id ${id}`;
  const value = binary
    ? `--secret-binary fileb://<(${get} --query SecretBinary --output text | base64 -d)`
    : `--secret-string file://<(${get} --query SecretString --output json | jq -j .)`;
  const key = context.replicaKeys.get(d.replicaRegion);
  const keyArg = key ? ` --kms-key-id ${sh(key)}` : '';
  switch (d.driftType) {
    case 'MISSING_IN_REPLICA':
      return {
        guidance: `The secret exists in ${d.primaryRegion} but not in ${d.replicaRegion}. Create it from the primary (or invoke the secret replicator with {"action":"reconcile"}).`,
        commands: [`aws secretsmanager create-secret --region ${d.replicaRegion} --name ${id}${keyArg} ${value}`],
      };
    case 'VALUE_MISMATCH':
      return {
        guidance: `The secret's value in ${d.replicaRegion} differs from ${d.primaryRegion}. Copy the primary's value (or invoke the secret replicator with {"action":"reconcile"}).`,
        commands: [`aws secretsmanager put-secret-value --region ${d.replicaRegion} --secret-id ${id} ${value}`],
      };
    case 'METADATA_MISMATCH': {
      const commands: string[] = [];
      const tags: string[] = [];
      const untag: string[] = [];
      for (const detail of d.details ?? []) {
        if (detail.field === 'kmsKey') {
          commands.push(`aws secretsmanager update-secret --region ${d.replicaRegion} --secret-id ${id} --kms-key-id ${sh(detail.primary ?? 'alias/aws/secretsmanager')}`);
        } else if (detail.field.startsWith('tag:')) {
          const tagKey = detail.field.slice('tag:'.length);
          if (detail.primary) tags.push(`Key=${tagKey},Value=${detail.primary}`);
          else untag.push(tagKey);
        }
      }
      if (tags.length) commands.push(`aws secretsmanager tag-resource --region ${d.replicaRegion} --secret-id ${id} --tags ${tags.map(sh).join(' ')}`);
      if (untag.length) commands.push(`aws secretsmanager untag-resource --region ${d.replicaRegion} --secret-id ${id} --tag-keys ${untag.map(sh).join(' ')}`);
      return { guidance: `The secret's ${fields(d)} in ${d.replicaRegion} differ from what is expected.`, commands };
    }
    case 'EXTRA_IN_REPLICA':
      return {
        guidance: `The secret exists in ${d.replicaRegion} but not in ${d.primaryRegion}. If it is not needed, schedule its deletion (recoverable for 7 days); if it is, create it in the primary.`,
        commands: [`aws secretsmanager delete-secret --region ${d.replicaRegion} --secret-id ${id} --recovery-window-in-days 7`],
      };
    case 'SCAN_FAILED':
      return scanFailedGuidance(d, [
        `aws secretsmanager list-secrets --region ${d.failure?.region ?? d.replicaRegion} --max-results 1`,
        ...(d.name !== 'secrets' ? [`aws secretsmanager describe-secret --region ${d.failure?.region ?? d.replicaRegion} --secret-id ${id}`] : []),
      ]);
  }
}

function parameterGuidance(d: Omit<Drift, 'remediation'>, context: GuidanceContext) {
  const name = sh(d.name);
  const type = context.parameterTypes.get(d.name) ?? 'String';
  const dataType = context.parameterDataTypes?.get(d.name);
  // Without --key-id, put-parameter would encrypt a SecureString replica with aws/ssm.
  const key = type === 'SecureString' ? context.parameterReplicaKeys?.get(d.replicaRegion) : undefined;
  const keyArg = type !== 'SecureString' ? ''
    : ` --key-id ${key !== undefined ? sh(key) : `"<the KMS key of SecureString replicas in ${d.replicaRegion}>"`}`;
  const copy = `aws ssm put-parameter --region ${d.replicaRegion} --name ${name} --type ${type}${keyArg}`
    + `${dataType && dataType !== 'text' ? ` --data-type ${sh(dataType)}` : ''} --tier Intelligent-Tiering --overwrite `
    + `--value "$(aws ssm get-parameter --region ${d.primaryRegion} --name ${name} --with-decryption --query Parameter.Value --output text)"`;
  if (context.overriddenParameters?.has(`${d.replicaRegion}\u0000${d.name}`)
    && ['MISSING_IN_REPLICA', 'VALUE_MISMATCH', 'METADATA_MISMATCH'].includes(d.driftType)) {
    // The declared value is in the app's parameter overrides; guidance never carries values.
    return {
      guidance: `The parameter has a declared value for ${d.replicaRegion} (a parameter override), which the replica does not hold. `
        + 'Write the declared value, not the primary\'s.',
      commands: [`aws ssm put-parameter --region ${d.replicaRegion} --name ${name} --type ${type}${keyArg}`
        + `${dataType && dataType !== 'text' ? ` --data-type ${sh(dataType)}` : ''} --tier Intelligent-Tiering --overwrite --value "<the declared value>"`],
    };
  }
  switch (d.driftType) {
    case 'MISSING_IN_REPLICA':
      return { guidance: `The parameter exists in ${d.primaryRegion} but not in ${d.replicaRegion}. Copy it from the primary.`, commands: [copy] };
    case 'VALUE_MISMATCH':
      return { guidance: `The parameter's value in ${d.replicaRegion} differs from ${d.primaryRegion}. Copy the primary's value.`, commands: [copy] };
    case 'METADATA_MISMATCH':
      return {
        guidance: `The parameter's ${fields(d)} in ${d.replicaRegion} differ from ${d.primaryRegion}. Rewrite it with the primary's type and value.`,
        commands: [copy],
      };
    case 'EXTRA_IN_REPLICA':
      return {
        guidance: `The parameter exists in ${d.replicaRegion} but not in ${d.primaryRegion}. Delete it if it is not needed, or create it in the primary.`,
        commands: [`aws ssm delete-parameter --region ${d.replicaRegion} --name ${name}`],
      };
    case 'SCAN_FAILED':
      return scanFailedGuidance(d, [
        `aws ssm get-parameters-by-path --region ${d.failure?.region ?? d.replicaRegion} --path ${d.name.startsWith('/') ? sh(d.name) : '/'} --recursive --max-results 1`,
      ]);
  }
}

function configMapGuidance(d: Omit<Drift, 'remediation'>, context: GuidanceContext) {
  const [namespace, name] = splitConfigMap(d.name);
  const ctx = (region: string, cluster: string | undefined) => context.account
    ? `arn:${partitionOf(region)}:eks:${region}:${context.account}:cluster/${cluster}`
    : String(cluster);
  const ignored = context.ignoredConfigMapKeys(d.name, d.replicaRegion);
  const dropIgnored = ignored.length > 0 ? ` | del(${ignored.map((k) => `.data[${JSON.stringify(k)}]`).join(', ')})` : '';
  const primary = `--context ${sh(ctx(d.primaryRegion, d.primaryCluster))}`;
  const replica = `--context ${sh(ctx(d.replicaRegion, d.replicaCluster))}`;
  const kubeconfig = [
    `aws eks update-kubeconfig --region ${d.primaryRegion} --name ${sh(String(d.primaryCluster))}`,
    `aws eks update-kubeconfig --region ${d.replicaRegion} --name ${sh(String(d.replicaCluster))}`,
  ];
  const copy = `kubectl ${primary} -n ${sh(namespace)} get configmap ${sh(name)} -o json `
    + `| jq '{apiVersion, kind, metadata: {name: .metadata.name, namespace: .metadata.namespace}, data}${dropIgnored.replace(/'/g, '\'\\\'\'')}' `
    + `| kubectl ${replica} apply --server-side --field-manager=${CONFIGMAP_FIELD_MANAGER} -f -`;
  switch (d.driftType) {
    case 'MISSING_IN_REPLICA':
      return {
        guidance: `The ConfigMap exists in cluster ${d.primaryCluster} (${d.primaryRegion}) but not in ${d.replicaCluster} (${d.replicaRegion}). Copy it with server-side apply.`,
        commands: [...kubeconfig, copy],
      };
    case 'VALUE_MISMATCH':
    case 'METADATA_MISMATCH':
      return {
        guidance: `The ConfigMap's keys ${(d.details ?? []).map((x) => x.field.replace(/^key:/, '')).join(', ')} in ${d.replicaCluster} (${d.replicaRegion}) `
          + `differ from ${d.primaryCluster} (${d.primaryRegion}). Copy the primary's data with server-side apply (keys ignore rules exclude are left out). `
          + 'The apply fails with a conflict on keys another field manager set: add --force-conflicts to take them over once you know who wrote them.',
        commands: [...kubeconfig, copy],
      };
    case 'EXTRA_IN_REPLICA':
      return {
        guidance: `The ConfigMap exists in ${d.replicaCluster} (${d.replicaRegion}) but not in ${d.primaryCluster}. Delete it if it is not needed.`,
        commands: [kubeconfig[1], `kubectl ${replica} -n ${sh(namespace)} delete configmap ${sh(name)}`],
      };
    case 'SCAN_FAILED': {
      const where = d.failure?.location === 'primary' ? primary : replica;
      return scanFailedGuidance(d, [
        ...kubeconfig,
        `kubectl ${where} auth can-i get configmaps -n ${sh(namespace || 'default')}`,
        `aws eks list-access-entries --region ${d.failure?.region ?? d.replicaRegion} --cluster-name ${sh(String(d.failure?.location === 'primary' ? d.primaryCluster : d.replicaCluster))}`,
      ]);
    }
  }
}

function scanFailedGuidance(d: Omit<Drift, 'remediation'>, commands: string[]) {
  const f = d.failure;
  return {
    guidance: `${d.kind === 'configmap' ? 'The ConfigMap' : d.name === 'secrets' || d.name.startsWith('/') ? 'The scope' : 'The item'} could not be read `
      + `in ${f?.location ?? 'the replica'} region ${f?.region ?? d.replicaRegion} (${f?.errorName ?? 'error'}${f?.httpStatus ? `, HTTP ${f.httpStatus}` : ''}), `
      + 'so it was not compared. Check the function role\'s permissions and the region\'s (or cluster\'s) reachability; the next scan retries.',
    commands,
  };
}

function fields(d: Omit<Drift, 'remediation'>): string {
  return (d.details ?? []).map((x) => x.field).join(', ');
}

/** `<namespace>/<name>` of a ConfigMap item, or the scope label `<cluster>/<namespace>`. */
function splitConfigMap(itemName: string): [string, string] {
  const i = itemName.indexOf('/');
  return i < 0 ? ['default', itemName] : [itemName.slice(0, i), itemName.slice(i + 1)];
}
