import { Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import { readQuietly } from '../private/quiet-read';
import { fail, validateLength, validatePattern, validateRegionName } from '../private/validation';

/** EKS cluster name limits: 1 to 100 characters, a letter or digit first. */
const MAX_CLUSTER_NAME_LENGTH = 100;
const CLUSTER_NAME_PATTERN = /^[0-9A-Za-z][A-Za-z0-9\-_]*$/;
const CLUSTER_NAME_ALLOWED = 'must start with a letter or digit and contain only letters, digits, "-" and "_"';
const ACCOUNT_PATTERN = /^\d{12}$/;
/** The API server URL EKS reports, e.g. `https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com`. */
const ENDPOINT_PATTERN = /^https:\/\/[^\s/]+(:\d+)?\/?$/;
/** Base64 without line breaks, as in DescribeCluster's `certificateAuthority.data`. */
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;
/** Authentication modes that support EKS access entries. */
const ACCESS_ENTRY_MODES: string[] = [eks.AuthenticationMode.API, eks.AuthenticationMode.API_AND_CONFIG_MAP];

/**
 * An EKS cluster known by name and region, for `KubernetesCluster.fromClusterAttributes()`.
 */
export interface KubernetesClusterAttributes {
  /**
   * Name of the EKS cluster.
   */
  readonly clusterName: string;

  /**
   * Region of the cluster, such as `eu-west-1`.
   */
  readonly region: string;

  /**
   * Account of the cluster. A cluster in another account than the stack that uses it needs
   * `clusterEndpoint` and `clusterCertificateAuthorityData`, because `eks:DescribeCluster` cannot
   * be called across accounts.
   *
   * @default - the account of the stack that uses the cluster
   */
  readonly account?: string;

  /**
   * HTTPS URL of the cluster's Kubernetes API server, as `aws eks describe-cluster` reports it in
   * `cluster.endpoint`. Set together with `clusterCertificateAuthorityData`.
   *
   * @default - the handler looks it up with `eks:DescribeCluster` at run time
   */
  readonly clusterEndpoint?: string;

  /**
   * Base64-encoded certificate bundle of the cluster's API server, as `aws eks describe-cluster`
   * reports it in `cluster.certificateAuthority.data`. Set together with `clusterEndpoint`.
   *
   * @default - the handler looks it up with `eks:DescribeCluster` at run time
   */
  readonly clusterCertificateAuthorityData?: string;
}

/**
 * An EKS cluster that a construct of this library reaches through the Kubernetes API, without an
 * agent in the cluster.
 *
 * The handler authenticates to the API server with its IAM role (an EKS access entry, so the
 * cluster's authentication mode must be `API` or `API_AND_CONFIG_MAP`). When the cluster is defined
 * in (or imported into) the same region and account as the construct that uses it, the construct
 * creates the access entry itself; otherwise it reports, as a warning, the AWS CLI commands that
 * grant the access once.
 *
 * @example
 * declare const cluster: eks.ICluster;
 * // A cluster of this CDK app.
 * const local = KubernetesCluster.fromCluster(cluster);
 * // A cluster created outside CDK, in another region of this account.
 * const remote = KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1' });
 */
export class KubernetesCluster {
  /**
   * A cluster of `aws-cdk-lib/aws-eks` defined in or imported into this CDK app.
   *
   * An imported cluster (`eks.Cluster.fromClusterAttributes()`) may omit `clusterEndpoint` and
   * `clusterCertificateAuthorityData`; the handler then looks them up with `eks:DescribeCluster`.
   * A cluster created by `eks.Cluster` must have `authenticationMode` `API` or `API_AND_CONFIG_MAP`.
   *
   * @param cluster the cluster; its region is the region of its stack
   */
  public static fromCluster(cluster: eks.ICluster): KubernetesCluster {
    if (cluster instanceof eks.Cluster) {
      const mode = cluster.authenticationMode ?? eks.AuthenticationMode.CONFIG_MAP;
      if (!ACCESS_ENTRY_MODES.includes(mode)) {
        fail('KubernetesCluster.fromCluster() cluster authenticationMode', 'must be API or API_AND_CONFIG_MAP, for EKS access entries', mode);
      }
    }
    return KubernetesCluster.fromConstruct('KubernetesCluster.fromCluster()', cluster, { v1: cluster });
  }

  /**
   * A cluster of `aws-cdk-lib/aws-eks-v2` defined in or imported into this CDK app.
   *
   * An imported cluster (`Cluster.fromClusterAttributes()`) may omit `clusterEndpoint` and
   * `clusterCertificateAuthorityData`; the handler then looks them up with `eks:DescribeCluster`.
   *
   * @param cluster the cluster; its region is the region of its stack
   */
  public static fromClusterV2(cluster: eksv2.ICluster): KubernetesCluster {
    return KubernetesCluster.fromConstruct('KubernetesCluster.fromClusterV2()', cluster, { v2: cluster });
  }

  /**
   * A cluster known by name and region, such as one created outside CDK.
   *
   * The construct that uses it does not create an access entry: it reports the AWS CLI commands
   * that grant its role access to the cluster as a warning, to run once.
   *
   * @param attrs name, region and optionally account and API server of the cluster
   */
  public static fromClusterAttributes(attrs: KubernetesClusterAttributes): KubernetesCluster {
    const origin = 'KubernetesCluster.fromClusterAttributes()';
    validateClusterName(`${origin} clusterName`, attrs.clusterName);
    validateRegionName(`${origin} region`, attrs.region);
    if (attrs.account !== undefined) {
      validatePattern(`${origin} account`, attrs.account, ACCOUNT_PATTERN, 'must be a 12-digit AWS account id');
    }
    if (attrs.clusterEndpoint !== undefined) {
      validatePattern(`${origin} clusterEndpoint`, attrs.clusterEndpoint, ENDPOINT_PATTERN,
        'must be the https:// URL of the API server, such as "https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com"');
    }
    if (attrs.clusterCertificateAuthorityData !== undefined) {
      validatePattern(`${origin} clusterCertificateAuthorityData`, attrs.clusterCertificateAuthorityData, BASE64_PATTERN,
        'must be base64 without line breaks, as in DescribeCluster\'s certificateAuthority.data');
    }
    if (attrs.clusterEndpoint !== undefined && attrs.clusterCertificateAuthorityData === undefined) {
      fail(`${origin} clusterCertificateAuthorityData`, 'must be set when clusterEndpoint is set', undefined);
    }
    if (attrs.clusterEndpoint === undefined && attrs.clusterCertificateAuthorityData !== undefined) {
      fail(`${origin} clusterEndpoint`, 'must be set when clusterCertificateAuthorityData is set', undefined);
    }
    return new KubernetesCluster({
      origin,
      clusterName: attrs.clusterName,
      region: attrs.region,
      account: attrs.account,
      endpoint: attrs.clusterEndpoint,
      certificateAuthorityData: attrs.clusterCertificateAuthorityData,
    });
  }

  private static fromConstruct(
    origin: string,
    cluster: eks.ICluster | eksv2.ICluster,
    source: { v1?: eks.ICluster; v2?: eksv2.ICluster },
  ): KubernetesCluster {
    const clusterName = cluster.clusterName;
    validateClusterName(`${origin} cluster clusterName`, clusterName);
    const stack = Stack.of(cluster);
    const endpoint = optionalAttribute(cluster, 'clusterEndpoint');
    const certificateAuthorityData = optionalAttribute(cluster, 'clusterCertificateAuthorityData');
    const both = endpoint !== undefined && certificateAuthorityData !== undefined;
    return new KubernetesCluster({
      origin,
      clusterName,
      region: stack.region,
      account: stack.account,
      endpoint: both ? endpoint : undefined,
      certificateAuthorityData: both ? certificateAuthorityData : undefined,
      construct: cluster,
      v1: source.v1,
      v2: source.v2,
    });
  }

  /**
   * Name of the cluster; a token for a cluster defined in this app without an explicit name.
   */
  public readonly clusterName: string;

  /**
   * Region of the cluster; a token when the cluster's stack is environment-agnostic.
   */
  public readonly region: string;

  /**
   * Factory the cluster came from, for messages.
   * @internal
   */
  public readonly _origin: string;

  /**
   * Account of the cluster; `undefined` means the account of the stack that uses it.
   * @internal
   */
  public readonly _account?: string;

  /**
   * API server URL, when known at synth time (possibly as a token).
   * @internal
   */
  public readonly _endpoint?: string;

  /**
   * Base64 CA bundle of the API server, when known at synth time (possibly as a token).
   * @internal
   */
  public readonly _certificateAuthorityData?: string;

  /**
   * The cluster construct (`fromCluster()`, `fromClusterV2()`); `undefined` for attributes.
   * @internal
   */
  public readonly _construct?: IConstruct;

  /**
   * The `aws-eks` cluster (`fromCluster()`).
   * @internal
   */
  public readonly _v1?: eks.ICluster;

  /**
   * The `aws-eks-v2` cluster (`fromClusterV2()`).
   * @internal
   */
  public readonly _v2?: eksv2.ICluster;

  private constructor(props: {
    origin: string;
    clusterName: string;
    region: string;
    account?: string;
    endpoint?: string;
    certificateAuthorityData?: string;
    construct?: IConstruct;
    v1?: eks.ICluster;
    v2?: eksv2.ICluster;
  }) {
    this._origin = props.origin;
    this.clusterName = props.clusterName;
    this.region = props.region;
    this._account = props.account;
    this._endpoint = props.endpoint;
    this._certificateAuthorityData = props.certificateAuthorityData;
    this._construct = props.construct;
    this._v1 = props.v1;
    this._v2 = props.v2;
  }
}

/** Fails unless `name` is a valid EKS cluster name. */
function validateClusterName(prop: string, name: string): void {
  if (Token.isUnresolved(name)) {
    return;
  }
  validateLength(prop, name, 1, MAX_CLUSTER_NAME_LENGTH);
  validatePattern(prop, name, CLUSTER_NAME_PATTERN, CLUSTER_NAME_ALLOWED);
}

/**
 * The attribute, or `undefined` when the (imported) cluster was not given it.
 *
 * aws-cdk-lib's imported clusters (`Cluster.fromClusterAttributes()` of aws-eks and aws-eks-v2)
 * throw a validation error when an attribute they were not given is read, and that error writes its
 * code to the CDK CLI's error file even when caught. They keep the attributes they were given in
 * `props`, so those are read there; any other cluster's attribute is read quietly (`readQuietly`).
 */
function optionalAttribute(
  cluster: eks.ICluster | eksv2.ICluster,
  name: 'clusterEndpoint' | 'clusterCertificateAuthorityData',
): string | undefined {
  const imported: unknown = (cluster as unknown as { props?: unknown }).props;
  if (typeof imported === 'object' && imported !== null && 'clusterName' in imported) {
    const value = (imported as { [key: string]: unknown })[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }
  return readQuietly(() => cluster[name]);
}
