import { App, CfnOutput, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  bindKubernetesCluster,
  BindKubernetesClusterOptions,
  BoundKubernetesCluster,
  KubernetesAccessLevel,
  MANUAL_ACCESS_WARNING,
} from '../../src/core/kubernetes-access';
import { KubernetesCluster } from '../../src/core/kubernetes-cluster';

const PRIMARY = 'us-east-1';
const ENDPOINT = 'https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com';
const CA_DATA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=';
const IMPORTED_ROLE_ARN = 'arn:aws:iam::111122223333:role/config-handler';

/** A stand-in for the constructs that will use the binder: a handler role and its bindings. */
class Consumer extends Construct {
  public readonly role: iam.IRole;

  constructor(scope: Construct, id: string, role?: iam.IRole) {
    super(scope, id);
    this.role = role ?? new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  }

  public bind(cluster: KubernetesCluster, options: Partial<BindKubernetesClusterOptions> = {}): BoundKubernetesCluster {
    return bindKubernetesCluster(this, cluster, {
      role: this.role,
      namespaces: ['app'],
      access: KubernetesAccessLevel.VIEW,
      id: 'ClusterAccess',
      ...options,
    });
  }
}

/** aws-eks clusters need a kubectl layer; synthesis only needs its ARN. */
function kubectlLayer(scope: Construct): lambda.ILayerVersion {
  return lambda.LayerVersion.fromLayerVersionArn(scope, 'KubectlLayer', 'arn:aws:lambda:us-east-1:111122223333:layer:kubectl:1');
}

interface World {
  readonly app: App;
  readonly stack: Stack;
  readonly consumer: Consumer;
}

function world(region: string = PRIMARY, account?: string): World {
  const app = new App();
  const stack = new Stack(app, 'TestStack', { env: { region, account } });
  return { app, stack, consumer: new Consumer(stack, 'Consumer') };
}

function clusterV2(scope: Construct, clusterName?: string): eksv2.Cluster {
  return new eksv2.Cluster(scope, 'Cluster', { version: eksv2.KubernetesVersion.V1_32, clusterName });
}

/** The `Fn::Join` CloudFormation renders for an access policy ARN. */
function accessPolicyArn(name: string): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:eks::aws:cluster-access-policy/${name}`]] };
}

/** The `Fn::Join` CloudFormation renders for a cluster ARN in `region` of the stack's account. */
function clusterArn(region: string, name: string, account?: string): unknown {
  const rest = account ? [`:eks:${region}:${account}:cluster/${name}`] : [`:eks:${region}:`, { Ref: 'AWS::AccountId' }, `:cluster/${name}`];
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...rest]] };
}

/** Every resource of every statement that allows `action`, in every IAM policy of the template. */
function resourcesAllowed(template: Template, action: string): unknown[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
    .filter((s) => ([] as string[]).concat(s.Action).includes(action))
    .flatMap((s) => ([] as unknown[]).concat(s.Resource));
}

/** The text of every manual-setup warning in `stack`. */
function manualSetupWarnings(stack: Stack): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(MANUAL_ACCESS_WARNING))
    .map((w) => String(w.entry.data).replace(` [ack: ${MANUAL_ACCESS_WARNING}]`, ''));
}

describe('bindKubernetesCluster for a cluster in the same stack', () => {
  test('creates an access entry for the role with the view policy scoped to the namespaces', () => {
    const { stack, consumer } = world();
    const cluster = clusterV2(stack);
    consumer.bind(KubernetesCluster.fromClusterV2(cluster), { namespaces: ['app', 'team-a'] });

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EKS::AccessEntry', 1);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: { Ref: 'ClusterEB0386A7' },
      PrincipalArn: { 'Fn::GetAtt': [stack.getLogicalId(consumer.role.node.defaultChild as iam.CfnRole), 'Arn'] },
      AccessPolicies: [{
        PolicyArn: accessPolicyArn('AmazonEKSViewPolicy'),
        AccessScope: { Type: 'namespace', Namespaces: ['app', 'team-a'] },
      }],
    });
  });

  test('uses the edit policy for edit access', () => {
    const { stack, consumer } = world();
    consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(stack)), { access: KubernetesAccessLevel.EDIT });

    Template.fromStack(stack).hasResourceProperties('AWS::EKS::AccessEntry', {
      AccessPolicies: [{ PolicyArn: accessPolicyArn('AmazonEKSEditPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['app'] } }],
    });
  });

  test('creates the access entry under the consuming construct with the given id', () => {
    const { stack, consumer } = world();
    const bound = consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(stack)), { id: 'ProdAccess' });

    expect(bound.accessEntry?.node.path).toBe('TestStack/Consumer/ProdAccess');
    expect(bound.manualSetupCommand).toBeUndefined();
  });

  test('passes the endpoint and certificate authority data and grants no eks:DescribeCluster', () => {
    const { stack, consumer } = world();
    const bound = consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(stack)));

    expect(stack.resolve(bound.config)).toEqual({
      name: { Ref: 'ClusterEB0386A7' },
      region: PRIMARY,
      endpoint: { 'Fn::GetAtt': ['ClusterEB0386A7', 'Endpoint'] },
      certificateAuthorityData: { 'Fn::GetAtt': ['ClusterEB0386A7', 'CertificateAuthorityData'] },
    });
    expect(resourcesAllowed(Template.fromStack(stack), 'eks:DescribeCluster')).toEqual([]);
  });

  test('adds no warning', () => {
    const { stack, consumer } = world();
    consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(stack)));

    expect(manualSetupWarnings(stack)).toEqual([]);
  });

  test('merges the namespaces of several bindings of the same role and cluster into one access entry', () => {
    const { stack, consumer } = world();
    const cluster = clusterV2(stack);
    const first = consumer.bind(KubernetesCluster.fromClusterV2(cluster), { namespaces: ['app', 'team-a'], id: 'First' });
    const second = consumer.bind(KubernetesCluster.fromClusterV2(cluster), { namespaces: ['team-b', 'app'], id: 'Second' });

    expect(second.accessEntry).toBe(first.accessEntry);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EKS::AccessEntry', 1);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      AccessPolicies: [{
        PolicyArn: accessPolicyArn('AmazonEKSViewPolicy'),
        AccessScope: { Type: 'namespace', Namespaces: ['app', 'team-a', 'team-b'] },
      }],
    });
  });

  test('associates one policy per access level when the same role binds the cluster at two levels', () => {
    const { stack, consumer } = world();
    const cluster = KubernetesCluster.fromClusterV2(clusterV2(stack));
    consumer.bind(cluster, { namespaces: ['app'], access: KubernetesAccessLevel.EDIT });
    consumer.bind(cluster, { namespaces: ['audit'], access: KubernetesAccessLevel.VIEW });

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EKS::AccessEntry', 1);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      AccessPolicies: [
        { PolicyArn: accessPolicyArn('AmazonEKSEditPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['app'] } },
        { PolicyArn: accessPolicyArn('AmazonEKSViewPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['audit'] } },
      ],
    });
  });

  test('creates one access entry per role', () => {
    const { stack, consumer } = world();
    const cluster = KubernetesCluster.fromClusterV2(clusterV2(stack));
    const other = new Consumer(stack, 'Other');
    consumer.bind(cluster);
    other.bind(cluster);

    Template.fromStack(stack).resourceCountIs('AWS::EKS::AccessEntry', 2);
  });

  test('creates one access entry per cluster', () => {
    const { stack, consumer } = world();
    consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(new Construct(stack, 'Blue'))), { id: 'BlueAccess' });
    consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(new Construct(stack, 'Green'))), { id: 'GreenAccess' });

    Template.fromStack(stack).resourceCountIs('AWS::EKS::AccessEntry', 2);
  });

  test('creates an access entry for an aws-eks cluster', () => {
    const { stack, consumer } = world();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_32,
      authenticationMode: eks.AuthenticationMode.API,
      defaultCapacity: 0,
      kubectlLayer: kubectlLayer(stack),
    });
    const bound = consumer.bind(KubernetesCluster.fromCluster(cluster), { namespaces: ['app'] });

    Template.fromStack(stack).hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: { Ref: stack.getLogicalId(cluster.node.findChild('Resource').node.defaultChild as any) },
      AccessPolicies: [{ PolicyArn: accessPolicyArn('AmazonEKSViewPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['app'] } }],
    });
    expect(Object.keys(stack.resolve(bound.config))).toEqual(['name', 'region', 'endpoint', 'certificateAuthorityData']);
  });
});

describe('bindKubernetesCluster for an imported cluster in the same region and account', () => {
  test('creates the access entry and grants eks:DescribeCluster on exactly the cluster when the endpoint is unknown', () => {
    const { stack, consumer } = world();
    const bound = consumer.bind(KubernetesCluster.fromCluster(eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' })));

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EKS::AccessEntry', { ClusterName: 'prod' });
    expect(resourcesAllowed(template, 'eks:DescribeCluster')).toEqual([clusterArn(PRIMARY, 'prod')]);
    expect(bound.config).toEqual({ name: 'prod', region: PRIMARY });
  });

  test('passes the imported endpoint and certificate authority data', () => {
    const { stack, consumer } = world();
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'prod',
      clusterEndpoint: ENDPOINT,
      clusterCertificateAuthorityData: CA_DATA,
    });
    const bound = consumer.bind(KubernetesCluster.fromCluster(cluster));

    expect(bound.config).toEqual({ name: 'prod', region: PRIMARY, endpoint: ENDPOINT, certificateAuthorityData: CA_DATA });
    expect(resourcesAllowed(Template.fromStack(stack), 'eks:DescribeCluster')).toEqual([]);
  });

  test('grants eks:DescribeCluster when only the endpoint was imported', () => {
    const { stack, consumer } = world();
    const cluster = eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', clusterEndpoint: ENDPOINT });
    const bound = consumer.bind(KubernetesCluster.fromClusterV2(cluster));

    expect(bound.config).toEqual({ name: 'prod', region: PRIMARY });
    expect(resourcesAllowed(Template.fromStack(stack), 'eks:DescribeCluster')).toEqual([clusterArn(PRIMARY, 'prod')]);
  });
});

describe('bindKubernetesCluster for a cluster in another stack of the same environment', () => {
  test('creates the access entry in the consuming stack and nothing in the cluster\'s stack', () => {
    const app = new App();
    const clusterStack = new Stack(app, 'ClusterStack', { env: { region: PRIMARY } });
    const stack = new Stack(app, 'TestStack', { env: { region: PRIMARY } });
    const cluster = clusterV2(clusterStack);
    const bound = new Consumer(stack, 'Consumer').bind(KubernetesCluster.fromClusterV2(cluster));

    // The handler gets the config as JSON in its environment; an output stands in for it here.
    new CfnOutput(stack, 'Config', { value: stack.toJsonString(bound.config) });

    expect(bound.accessEntry).toBeDefined();
    Template.fromStack(clusterStack).resourceCountIs('AWS::EKS::AccessEntry', 0);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: { 'Fn::ImportValue': Match.stringLikeRegexp('^ClusterStack:ExportsOutputRefCluster') },
    });
    const config = JSON.stringify(template.toJSON().Outputs.Config.Value);
    for (const attribute of ['RefCluster', 'FnGetAttClusterEB0386A7Endpoint', 'FnGetAttClusterEB0386A7CertificateAuthorityData']) {
      expect(config).toContain(`"Fn::ImportValue":"ClusterStack:ExportsOutput${attribute}`);
    }
    // The consuming stack depends on the cluster's stack, never the reverse.
    expect(stack.dependencies).toEqual([clusterStack]);
    expect(clusterStack.dependencies).toEqual([]);
  });
});

describe('bindKubernetesCluster for a cluster in another region\'s stack', () => {
  /** A consumer in PRIMARY bound to a cluster in eu-west-1; its role is imported by ARN, or created. */
  function remote(importedRole: boolean = false): { stack: Stack; clusterStack: Stack; bound: BoundKubernetesCluster; consumer: Consumer } {
    const app = new App();
    const clusterStack = new Stack(app, 'EuropeStack', { env: { region: 'eu-west-1' } });
    const stack = new Stack(app, 'TestStack', { env: { region: PRIMARY } });
    const consumer = new Consumer(stack, 'Consumer', importedRole ? iam.Role.fromRoleArn(stack, 'ImportedRole', IMPORTED_ROLE_ARN) : undefined);
    const bound = consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(clusterStack, 'prod')), { namespaces: ['app', 'team-a'] });
    return { stack, clusterStack, bound, consumer };
  }

  test('creates no access entry in either stack', () => {
    const { stack, clusterStack, bound } = remote();

    expect(bound.accessEntry).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::EKS::AccessEntry', 0);
    Template.fromStack(clusterStack).resourceCountIs('AWS::EKS::AccessEntry', 0);
  });

  test('passes the cluster name and region but not the endpoint, and grants eks:DescribeCluster on exactly the cluster', () => {
    const { stack, bound } = remote();

    expect(stack.resolve(bound.config)).toEqual({ name: 'prod', region: 'eu-west-1' });
    expect(resourcesAllowed(Template.fromStack(stack), 'eks:DescribeCluster')).toEqual([clusterArn('eu-west-1', 'prod')]);
  });

  test('returns the commands that create the access entry', () => {
    const { bound } = remote(true);

    expect(bound.manualSetupCommand).toBe([
      `aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn ${IMPORTED_ROLE_ARN}`,
      `aws eks associate-access-policy --cluster-name prod --region eu-west-1 --principal-arn ${IMPORTED_ROLE_ARN} `
      + '--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=namespace,namespaces=app,team-a',
    ].join('\n'));
  });

  test('returns commands whose role ARN resolves at deploy time', () => {
    const { stack, bound, consumer } = remote();

    const roleArn = { 'Fn::GetAtt': [stack.getLogicalId(consumer.role.node.defaultChild as iam.CfnRole), 'Arn'] };
    expect(stack.resolve(bound.manualSetupCommand)).toEqual({
      'Fn::Join': ['', [
        'aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn ', roleArn,
        '\naws eks associate-access-policy --cluster-name prod --region eu-west-1 --principal-arn ', roleArn,
        ' --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=namespace,namespaces=app,team-a',
      ]],
    });
  });

  test('warns with the commands, naming the role', () => {
    const { stack } = remote();

    expect(manualSetupWarnings(stack)).toEqual([
      'This app cannot grant the role TestStack/Consumer/Role access to the EKS cluster prod in eu-west-1, because it is in another '
      + 'environment (aws://unknown-account/eu-west-1) than this stack (aws://unknown-account/us-east-1). Grant it once, with credentials '
      + 'of the cluster\'s account that may manage EKS access entries (the cluster\'s authentication mode must be API or API_AND_CONFIG_MAP):\n'
      + 'aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn "$ROLE_ARN"\n'
      + 'aws eks associate-access-policy --cluster-name prod --region eu-west-1 --principal-arn "$ROLE_ARN" '
      + '--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=namespace,namespaces=app,team-a\n'
      + 'where ROLE_ARN is the ARN of the role TestStack/Consumer/Role (known after deployment).',
    ]);
  });

  test('passes an endpoint and certificate authority data known at synth time', () => {
    const app = new App();
    const clusterStack = new Stack(app, 'EuropeStack', { env: { region: 'eu-west-1' } });
    const stack = new Stack(app, 'TestStack', { env: { region: PRIMARY } });
    const cluster = eks.Cluster.fromClusterAttributes(clusterStack, 'Cluster', {
      clusterName: 'prod',
      clusterEndpoint: ENDPOINT,
      clusterCertificateAuthorityData: CA_DATA,
    });
    const bound = new Consumer(stack, 'Consumer').bind(KubernetesCluster.fromCluster(cluster));

    expect(bound.config).toEqual({ name: 'prod', region: 'eu-west-1', endpoint: ENDPOINT, certificateAuthorityData: CA_DATA });
    expect(bound.accessEntry).toBeUndefined();
    expect(resourcesAllowed(Template.fromStack(stack), 'eks:DescribeCluster')).toEqual([]);
  });

  test('warns with the literal role ARN when it is known', () => {
    const { stack } = remote(true);

    const [warning] = manualSetupWarnings(stack);
    expect(warning).toContain(`aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn ${IMPORTED_ROLE_ARN}\n`);
    expect(warning).not.toContain('ROLE_ARN');
  });
});

describe('bindKubernetesCluster for a cluster given by attributes', () => {
  test('creates no access entry and grants eks:DescribeCluster on exactly the cluster', () => {
    const { stack, consumer } = world();
    const bound = consumer.bind(KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: PRIMARY }));

    expect(bound.accessEntry).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EKS::AccessEntry', 0);
    expect(resourcesAllowed(template, 'eks:DescribeCluster')).toEqual([clusterArn(PRIMARY, 'prod')]);
    expect(bound.config).toEqual({ name: 'prod', region: PRIMARY });
  });

  test('scopes eks:DescribeCluster to the cluster\'s account', () => {
    const { stack, consumer } = world();
    consumer.bind(KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1', account: '111122223333' }));

    expect(resourcesAllowed(Template.fromStack(stack), 'eks:DescribeCluster')).toEqual([clusterArn('eu-west-1', 'prod', '111122223333')]);
  });

  test('passes the endpoint and certificate authority data when given, and grants no eks:DescribeCluster', () => {
    const { stack, consumer } = world();
    const bound = consumer.bind(KubernetesCluster.fromClusterAttributes({
      clusterName: 'prod',
      region: 'eu-west-1',
      clusterEndpoint: ENDPOINT,
      clusterCertificateAuthorityData: CA_DATA,
    }));

    expect(bound.config).toEqual({ name: 'prod', region: 'eu-west-1', endpoint: ENDPOINT, certificateAuthorityData: CA_DATA });
    expect(resourcesAllowed(Template.fromStack(stack), 'eks:DescribeCluster')).toEqual([]);
  });

  test('accepts a cluster in another account with endpoint and certificate authority data', () => {
    const { consumer } = world(PRIMARY, '111122223333');
    expect(() => consumer.bind(KubernetesCluster.fromClusterAttributes({
      clusterName: 'prod',
      region: 'eu-west-1',
      account: '444455556666',
      clusterEndpoint: ENDPOINT,
      clusterCertificateAuthorityData: CA_DATA,
    }))).not.toThrow();
  });

  test('returns the commands and warns with them', () => {
    const { stack } = world();
    const consumer = new Consumer(stack, 'Imported', iam.Role.fromRoleArn(stack, 'Role', IMPORTED_ROLE_ARN));
    const bound = consumer.bind(KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1' }), {
      namespaces: ['app'],
      access: KubernetesAccessLevel.EDIT,
    });

    const commands = [
      `aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn ${IMPORTED_ROLE_ARN}`,
      `aws eks associate-access-policy --cluster-name prod --region eu-west-1 --principal-arn ${IMPORTED_ROLE_ARN} `
      + '--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy --access-scope type=namespace,namespaces=app',
    ].join('\n');
    expect(bound.manualSetupCommand).toBe(commands);
    expect(manualSetupWarnings(stack)).toEqual([
      'This app cannot grant the role TestStack/Role access to the EKS cluster prod in eu-west-1, because it is given by attributes '
      + '(KubernetesCluster.fromClusterAttributes()). Grant it once, with credentials of the cluster\'s account that may manage EKS access '
      + `entries (the cluster's authentication mode must be API or API_AND_CONFIG_MAP):\n${commands}`,
    ]);
  });

  test('uses the partition of the cluster\'s region in the policy ARN', () => {
    const { consumer } = world('cn-north-1');
    const bound = consumer.bind(KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'cn-northwest-1' }));

    expect(bound.manualSetupCommand).toContain('--policy-arn arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy ');
  });

  test('merges the namespaces and access levels of several bindings into one warning and one set of commands', () => {
    const { stack, consumer } = world();
    const attributes = { clusterName: 'prod', region: 'eu-west-1' };
    const first = consumer.bind(KubernetesCluster.fromClusterAttributes(attributes), { namespaces: ['app'] });
    consumer.bind(KubernetesCluster.fromClusterAttributes(attributes), { namespaces: ['team-a', 'app'] });
    consumer.bind(KubernetesCluster.fromClusterAttributes(attributes), { namespaces: ['ops'], access: KubernetesAccessLevel.EDIT });

    const associations = (text: string) => text.split('\n').filter((line) => line.startsWith('aws eks'))
      .map((line) => line.replace(/^aws eks (\S+) .* --policy-arn \S+\/(\w+) --access-scope (\S+)$/, '$1 $2 $3'));
    const expected = [
      'aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn "$ROLE_ARN"',
      'associate-access-policy AmazonEKSViewPolicy type=namespace,namespaces=app,team-a',
      'associate-access-policy AmazonEKSEditPolicy type=namespace,namespaces=ops',
    ];
    const warnings = manualSetupWarnings(stack);
    expect(warnings).toHaveLength(1);
    expect(associations(warnings[0])).toEqual(expected);
    expect(associations(first.manualSetupCommand!)).toEqual([expect.stringMatching(/^aws eks create-access-entry /), ...expected.slice(1)]);
    expect(resourcesAllowed(Template.fromStack(stack), 'eks:DescribeCluster')).toEqual([clusterArn('eu-west-1', 'prod')]);
  });

  test('warns once per cluster', () => {
    const { stack, consumer } = world();
    consumer.bind(KubernetesCluster.fromClusterAttributes({ clusterName: 'blue', region: 'eu-west-1' }));
    consumer.bind(KubernetesCluster.fromClusterAttributes({ clusterName: 'green', region: 'eu-west-1' }));

    expect(manualSetupWarnings(stack).map((w) => /EKS cluster (\w+)/.exec(w)?.[1])).toEqual(['blue', 'green']);
  });

  test('shows deploy-time names as shell variables in the warning', () => {
    const { stack, consumer } = world();
    const name = Token.asString({ Ref: 'ClusterName' });
    consumer.bind(KubernetesCluster.fromClusterAttributes({ clusterName: name, region: 'eu-west-1' }));

    const [warning] = manualSetupWarnings(stack);
    expect(warning).toContain('aws eks create-access-entry --cluster-name "$CLUSTER_NAME" --region eu-west-1 --principal-arn "$ROLE_ARN"');
    expect(warning).toContain('where CLUSTER_NAME is the name of the cluster, ROLE_ARN is the ARN of the role TestStack/Consumer/Role');
  });
});

describe('bindKubernetesCluster namespaces', () => {
  const cluster = () => KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1' });

  test('fails if namespaces is empty', () => {
    expect(() => world().consumer.bind(cluster(), { namespaces: [] })).toThrow('namespaces must not be empty, but got []');
  });

  test('fails if a namespace has upper-case letters', () => {
    expect(() => world().consumer.bind(cluster(), { namespaces: ['app', 'Team-A'] })).toThrow(
      'namespaces[1] must be a Kubernetes namespace name (lowercase letters, digits and "-", starting and ending with a letter or digit), '
      + 'but got "Team-A"');
  });

  test('fails if a namespace ends with a hyphen', () => {
    expect(() => world().consumer.bind(cluster(), { namespaces: ['app-'] })).toThrow(
      'namespaces[0] must be a Kubernetes namespace name (lowercase letters, digits and "-", starting and ending with a letter or digit), '
      + 'but got "app-"');
  });

  test('fails if a namespace is longer than 63 characters', () => {
    const long = 'n'.repeat(64);
    expect(() => world().consumer.bind(cluster(), { namespaces: [long] })).toThrow(
      `namespaces[0] must be 1 to 63 characters long (64 received), but got "${long}"`);
  });

  test('fails if a namespace is empty', () => {
    expect(() => world().consumer.bind(cluster(), { namespaces: [''] })).toThrow(
      'namespaces[0] must be 1 to 63 characters long (0 received), but got ""');
  });

  test('fails if namespaces contains duplicates', () => {
    expect(() => world().consumer.bind(cluster(), { namespaces: ['app', 'ops', 'app'] })).toThrow(
      'namespaces must not contain duplicates, but got ["app","ops","app"]');
  });

  test('names the prop with the caller\'s prefix', () => {
    expect(() => world().consumer.bind(cluster(), { namespaces: [], propPrefix: 'clusters[2].' })).toThrow(
      'clusters[2].namespaces must not be empty, but got []');
  });

  test('accepts a 63-character namespace and skips tokens', () => {
    const token = Token.asString({ Ref: 'Namespace' });
    expect(() => world().consumer.bind(cluster(), { namespaces: ['n'.repeat(63), token, token] })).not.toThrow();
  });
});

describe('bindKubernetesCluster cluster checks', () => {
  test('fails if a cluster of this app is in another account', () => {
    const app = new App();
    const clusterStack = new Stack(app, 'ClusterStack', { env: { region: PRIMARY, account: '444455556666' } });
    const stack = new Stack(app, 'TestStack', { env: { region: PRIMARY, account: '111122223333' } });
    const cluster = KubernetesCluster.fromClusterV2(clusterV2(clusterStack, 'prod'));

    expect(() => new Consumer(stack, 'Consumer').bind(cluster, { propPrefix: 'clusters[0].' })).toThrow(
      'clusters[0].cluster must be in the account of the stack that uses it (111122223333), or be given by '
      + 'KubernetesCluster.fromClusterAttributes() with clusterEndpoint and clusterCertificateAuthorityData '
      + '(eks:DescribeCluster cannot be called across accounts), but got "444455556666"');
  });

  test('fails if a cluster of another region has no explicit name', () => {
    const app = new App();
    const clusterStack = new Stack(app, 'EuropeStack', { env: { region: 'eu-west-1' } });
    const stack = new Stack(app, 'TestStack', { env: { region: PRIMARY } });
    const cluster = KubernetesCluster.fromClusterV2(clusterV2(clusterStack));

    expect(() => new Consumer(stack, 'Consumer').bind(cluster)).toThrow(
      'cluster must have an explicit clusterName to be used from another region\'s stack, but got "EuropeStack/Cluster"');
  });

  test('fails if a cluster of another stack is in an environment-agnostic stack', () => {
    const app = new App();
    const clusterStack = new Stack(app, 'AgnosticStack');
    const stack = new Stack(app, 'TestStack', { env: { region: PRIMARY } });
    const cluster = KubernetesCluster.fromCluster(eks.Cluster.fromClusterAttributes(clusterStack, 'Cluster', { clusterName: 'prod' }));

    expect(() => new Consumer(stack, 'Consumer').bind(cluster)).toThrow(
      'cluster must be in the environment of the stack that uses it, or both stacks must have an explicit region (env.region), '
      + 'but got "aws://unknown-account/unknown-region"');
  });

  test('fails if a cluster given by attributes is in another account and has no endpoint', () => {
    const { consumer } = world(PRIMARY, '111122223333');
    const cluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1', account: '444455556666' });

    expect(() => consumer.bind(cluster)).toThrow(
      'cluster must have clusterEndpoint and clusterCertificateAuthorityData when it is in another account than the stack that uses it '
      + '(111122223333), because eks:DescribeCluster cannot be called across accounts, but got "444455556666"');
  });

  test('fails if the cluster is in another partition', () => {
    const { consumer } = world();
    const cluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'cn-north-1' });

    expect(() => consumer.bind(cluster)).toThrow(
      'cluster region must be a region of the primary region\'s partition "aws", but got "cn-north-1"');
  });

  test('works with a cluster in the same environment-agnostic stack', () => {
    const app = new App();
    const stack = new Stack(app, 'TestStack');
    const bound = new Consumer(stack, 'Consumer').bind(KubernetesCluster.fromClusterV2(clusterV2(stack)));

    expect(bound.accessEntry).toBeDefined();
    expect(stack.resolve(bound.config.region)).toEqual({ Ref: 'AWS::Region' });
  });
});

describe('bindKubernetesCluster with cdk-nag AwsSolutions', () => {
  /** Unacknowledged findings of the AwsSolutions pack on resources under the consumer. */
  function findings(app: App, honourAcknowledgements: boolean = true): string[] {
    const pack = new AwsSolutionsChecks();
    if (!honourAcknowledgements) {
      (pack as any).isAcknowledged = () => false;
    }
    return pack.validateScope(app).violations.flatMap((v) => v.violatingResources
      .filter((r) => r.constructPath?.startsWith('TestStack/Consumer/'))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
  }

  test('leaves no finding on an access entry, the role policy or a manual grant', () => {
    const { app, stack, consumer } = world();
    consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(stack)), { access: KubernetesAccessLevel.EDIT, id: 'ClusterAccess' });
    consumer.bind(KubernetesCluster.fromCluster(eks.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'blue' })), { id: 'BlueAccess' });
    consumer.bind(KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1' }));

    expect(findings(app, false)).toEqual([]);
  });

  test('reports findings elsewhere in the app', () => {
    // Guards the test above against a pack that reports nothing.
    const { app, stack, consumer } = world();
    consumer.bind(KubernetesCluster.fromClusterV2(clusterV2(stack)));
    const pack = new AwsSolutionsChecks();
    (pack as any).isAcknowledged = () => false;
    expect(pack.validateScope(app).violations.length).toBeGreaterThan(0);
  });
});

describe('bindKubernetesCluster with a Kubernetes group', () => {
  test('puts the access entry in the group, once per group, and associates no policy for it', () => {
    const { stack, consumer } = world();
    const cluster = KubernetesCluster.fromClusterV2(clusterV2(stack));
    consumer.bind(cluster, { kubernetesGroup: 'team-a', namespaces: ['app'] });
    consumer.bind(cluster, { kubernetesGroup: 'team-a', namespaces: ['jobs'] });
    consumer.bind(cluster, { kubernetesGroup: 'team-b', namespaces: ['app'] });
    const entries = Object.values(Template.fromStack(stack).findResources('AWS::EKS::AccessEntry')).map((r: any) => r.Properties);
    expect(entries.map((e) => [e.KubernetesGroups, e.AccessPolicies])).toEqual([[['team-a', 'team-b'], []]]);
  });

  test('keeps the policies of the role\'s bindings without a group', () => {
    const { stack, consumer } = world();
    const cluster = KubernetesCluster.fromClusterV2(clusterV2(stack));
    consumer.bind(cluster, { kubernetesGroup: 'team-a' });
    consumer.bind(cluster, { namespaces: ['other'] });
    const [entry] = Object.values(Template.fromStack(stack).findResources('AWS::EKS::AccessEntry')).map((r: any) => r.Properties);
    expect(entry.KubernetesGroups).toEqual(['team-a']);
    expect(entry.AccessPolicies).toEqual([{ PolicyArn: accessPolicyArn('AmazonEKSViewPolicy'), AccessScope: { Type: 'namespace', Namespaces: ['other'] } }]);
  });

  test('the commands create the entry with --kubernetes-groups and associate only the policies of bindings without one', () => {
    const { consumer } = world();
    const role = iam.Role.fromRoleArn(consumer, 'Imported', IMPORTED_ROLE_ARN);
    const cluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'prod', region: 'eu-west-1' });
    const bind = (options: Partial<BindKubernetesClusterOptions>) => consumer.bind(cluster, { role, ...options });
    bind({ kubernetesGroup: 'team-a' });
    expect(bind({ kubernetesGroup: 'team-a' }).manualSetupCommand).toBe(
      `aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn ${IMPORTED_ROLE_ARN} --kubernetes-groups team-a`);
    expect(bind({ namespaces: ['other'] }).manualSetupCommand!.split('\n')).toEqual([
      `aws eks create-access-entry --cluster-name prod --region eu-west-1 --principal-arn ${IMPORTED_ROLE_ARN} --kubernetes-groups team-a`,
      `aws eks associate-access-policy --cluster-name prod --region eu-west-1 --principal-arn ${IMPORTED_ROLE_ARN} `
        + '--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=namespace,namespaces=other',
    ]);
  });
});
