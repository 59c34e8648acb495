import { App, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { KubernetesCluster, KubernetesClusterAttributes } from '../../src';

const ENDPOINT = 'https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com';
const CA_DATA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=';

/** aws-eks clusters need a kubectl layer; synthesis only needs its ARN. */
function kubectlLayer(scope: Construct): lambda.ILayerVersion {
  return lambda.LayerVersion.fromLayerVersionArn(scope, 'KubectlLayer', 'arn:aws:lambda:us-east-1:111122223333:layer:kubectl:1');
}

function stackIn(region?: string, app: App = new App(), id: string = 'TestStack'): Stack {
  return new Stack(app, id, { env: region ? { region } : undefined });
}

function fromAttributes(overrides: Partial<KubernetesClusterAttributes>): () => KubernetesCluster {
  return () => KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1', ...overrides });
}

describe('KubernetesCluster.fromClusterAttributes', () => {
  test('keeps the name and region', () => {
    const cluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1' });
    expect(cluster.clusterName).toBe('prod');
    expect(cluster.region).toBe('eu-west-1');
  });

  test('accepts account, endpoint and certificate authority data', () => {
    expect(fromAttributes({ account: '444455556666', clusterEndpoint: ENDPOINT, clusterCertificateAuthorityData: CA_DATA })).not.toThrow();
  });

  test('accepts tokens without validating them', () => {
    const token = Token.asString({ Ref: 'Param' });
    expect(() => KubernetesCluster.fromClusterAttributes({
      clusterName: token,
      region: token,
      account: token,
      clusterEndpoint: token,
      clusterCertificateAuthorityData: token,
    })).not.toThrow();
  });

  test('fails if clusterName is empty', () => {
    expect(fromAttributes({ clusterName: '' })).toThrow(
      'KubernetesCluster.fromClusterAttributes() clusterName must be 1 to 100 characters long (0 received), but got ""');
  });

  test('fails if clusterName is longer than 100 characters', () => {
    const name = 'c'.repeat(101);
    expect(fromAttributes({ clusterName: name })).toThrow(
      `KubernetesCluster.fromClusterAttributes() clusterName must be 1 to 100 characters long (101 received), but got "${name}"`);
  });

  test('fails if clusterName has characters EKS does not allow', () => {
    expect(fromAttributes({ clusterName: 'prod cluster' })).toThrow(
      'KubernetesCluster.fromClusterAttributes() clusterName must start with a letter or digit and contain only letters, digits, "-" and "_", '
      + 'but got "prod cluster"');
  });

  test('fails if clusterName starts with a hyphen', () => {
    expect(fromAttributes({ clusterName: '-prod' })).toThrow(
      'KubernetesCluster.fromClusterAttributes() clusterName must start with a letter or digit and contain only letters, digits, "-" and "_", '
      + 'but got "-prod"');
  });

  test('fails if region is not an AWS region', () => {
    expect(fromAttributes({ region: 'eu-west1' })).toThrow(
      'KubernetesCluster.fromClusterAttributes() region must be an AWS region name such as "eu-west-1", but got "eu-west1"');
  });

  test('fails if account is not a 12-digit account id', () => {
    expect(fromAttributes({ account: '4444-5555-6666' })).toThrow(
      'KubernetesCluster.fromClusterAttributes() account must be a 12-digit AWS account id, but got "4444-5555-6666"');
  });

  test('fails if clusterEndpoint is not an https URL', () => {
    expect(fromAttributes({ clusterEndpoint: 'http://example.com', clusterCertificateAuthorityData: CA_DATA })).toThrow(
      'KubernetesCluster.fromClusterAttributes() clusterEndpoint must be the https:// URL of the API server, such as '
      + '"https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com", but got "http://example.com"');
  });

  test('fails if clusterCertificateAuthorityData is not base64', () => {
    expect(fromAttributes({ clusterEndpoint: ENDPOINT, clusterCertificateAuthorityData: '-----BEGIN CERTIFICATE-----' })).toThrow(
      'KubernetesCluster.fromClusterAttributes() clusterCertificateAuthorityData must be base64 without line breaks, '
      + 'as in DescribeCluster\'s certificateAuthority.data, but got "-----BEGIN CERTIFICATE-----"');
  });

  test('fails if clusterEndpoint is set without clusterCertificateAuthorityData', () => {
    expect(fromAttributes({ clusterEndpoint: ENDPOINT })).toThrow(
      'KubernetesCluster.fromClusterAttributes() clusterCertificateAuthorityData must be set when clusterEndpoint is set, but got undefined');
  });

  test('fails if clusterCertificateAuthorityData is set without clusterEndpoint', () => {
    expect(fromAttributes({ clusterCertificateAuthorityData: CA_DATA })).toThrow(
      'KubernetesCluster.fromClusterAttributes() clusterEndpoint must be set when clusterCertificateAuthorityData is set, but got undefined');
  });
});

describe('KubernetesCluster.fromCluster', () => {
  test('takes the name of the cluster and the region of its stack', () => {
    const stack = stackIn('eu-central-1');
    const cluster = KubernetesCluster.fromCluster(eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' }));
    expect(cluster.clusterName).toBe('prod');
    expect(cluster.region).toBe('eu-central-1');
  });

  test('has a token region when the cluster\'s stack is environment-agnostic', () => {
    const cluster = KubernetesCluster.fromCluster(eks.Cluster.fromClusterAttributes(stackIn(), 'Cluster', { clusterName: 'prod' }));
    expect(Token.isUnresolved(cluster.region)).toBe(true);
  });

  test('accepts a cluster with authenticationMode API_AND_CONFIG_MAP', () => {
    const stack = stackIn('us-east-1');
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_32,
      authenticationMode: eks.AuthenticationMode.API_AND_CONFIG_MAP,
      defaultCapacity: 0,
      kubectlLayer: kubectlLayer(stack),
    });
    expect(() => KubernetesCluster.fromCluster(cluster)).not.toThrow();
  });

  test('fails if the cluster uses the default authenticationMode CONFIG_MAP', () => {
    const stack = stackIn('us-east-1');
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_32,
      defaultCapacity: 0,
      kubectlLayer: kubectlLayer(stack),
    });
    expect(() => KubernetesCluster.fromCluster(cluster)).toThrow(
      'KubernetesCluster.fromCluster() cluster authenticationMode must be API or API_AND_CONFIG_MAP, for EKS access entries, but got "CONFIG_MAP"');
  });

  test('fails if an imported cluster\'s name is not an EKS cluster name', () => {
    const cluster = eks.Cluster.fromClusterAttributes(stackIn('us-east-1'), 'Cluster', { clusterName: 'prod/blue' });
    expect(() => KubernetesCluster.fromCluster(cluster)).toThrow(
      'KubernetesCluster.fromCluster() cluster clusterName must start with a letter or digit and contain only letters, digits, "-" and "_", '
      + 'but got "prod/blue"');
  });
});

describe('KubernetesCluster.fromClusterV2', () => {
  test('takes the (token) name of the cluster and the region of its stack', () => {
    const stack = stackIn('ap-southeast-2');
    const cluster = KubernetesCluster.fromClusterV2(new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_32 }));
    expect(stack.resolve(cluster.clusterName)).toEqual({ Ref: 'ClusterEB0386A7' });
    expect(cluster.region).toBe('ap-southeast-2');
  });

  test('fails if an imported cluster\'s name is not an EKS cluster name', () => {
    const cluster = eksv2.Cluster.fromClusterAttributes(stackIn('us-east-1'), 'Cluster', { clusterName: '' });
    expect(() => KubernetesCluster.fromClusterV2(cluster)).toThrow(
      'KubernetesCluster.fromClusterV2() cluster clusterName must be 1 to 100 characters long (0 received), but got ""');
  });
});
