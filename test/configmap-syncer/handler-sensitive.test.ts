import { randomUUID } from 'node:crypto';
import {
  classChangeRatio, isSensitiveName, looksRandom, nameWords, sensitiveKeyReason, sensitiveValueReason, shannonEntropy,
} from '../../lambda-src/configmap-syncer/sensitive';

/** A seeded generator (Park-Miller), so the random-looking inputs, and so the results, are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed % 2_147_483_647;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return (state - 1) / 2_147_483_646;
  };
}
const random = seeded(20250121);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64 = `${ALNUM}+/`;
const HEX = '0123456789abcdef';
const pick = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
const randomAlnum = (length: number) => pick(ALNUM, length);

describe('key names', () => {
  test.each([
    // the seed's includeKeys
    'log_level', 'cache_ttl', 'max_connections', 'session_timeout',
    // credential words as parts of longer words are not credential words
    'keyspace', 'keyspace_name', 'tokenizer', 'max_tokens', 'monkey_patch', 'author', 'authority_url', 'oauth_enabled',
    'bypass_cache', 'passenger_limit', 'certainty',
    'feature.beta', 'db.pool', 'retries', 'LOG_LEVEL', 'sessionTimeout', 'MaxConnections', 'region', 's3_bucket', 'apiUrl',
  ])('passes %s', (name) => {
    expect(isSensitiveName(name)).toBe(false);
  });

  test.each([
    'password', 'db_password', 'DB_PASSWORD', 'dbPassword', 'DBPASSWORD', 'mysqlPassword2', 'db.password', 'admin-passwd', 'pwd',
    'db_pass', 'passphrase', 'client_secret', 'clientSecret', 'secrets', 'api_token', 'apiToken', 'GITHUB_TOKEN', 'api_key',
    'apiKey', 'APIKey', 'APIKEY', 'x-api-key', 'key', 'signing.key', 'credentials', 'aws_creds', 'private_key', 'privateKey',
    'tls.cert', 'ca_certificate', 'auth', 'basic_auth', 'Authorization', 'webhook_signature', 'password_salt', 'otp_seed',
    'jwt', 'bearer', 'sentry_dsn', 'server.pem', 'keystore', 'accessKeyId', 'aws_secret_access_key', 'connectionString',
    'DATABASE_CONNECTION_STRING', 'refreshToken', 'authtoken', 'secretary',
  ])('refuses %s', (name) => {
    expect(isSensitiveName(name)).toBe(true);
  });

  test('splits on separators, camelCase, acronyms and digits', () => {
    expect(nameWords('dbPassword')).toEqual(['db', 'password']);
    expect(nameWords('APIKey')).toEqual(['api', 'key']);
    expect(nameWords('db.pool/max-idle_conns')).toEqual(['db', 'pool', 'max', 'idle', 'conns']);
    expect(nameWords('password2')).toEqual(['password', '2']);
    expect(nameWords('OAuth2Token')).toEqual(['o', 'auth', '2', 'token']);
  });
});

/** base64 of `user:password`, as HTTP Basic sends it. */
const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

describe('values', () => {
  const awsKeyId = `AKIA${randomAlnum(16).toUpperCase()}`;
  const jwt = [
    Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
    Buffer.from(`{"sub":"${randomUUID()}"}`).toString('base64url'),
    pick(`${ALNUM}-_`, 43),
  ].join('.');

  test.each([
    ['a PEM private key', `-----BEGIN PRIVATE KEY-----\n${pick(BASE64, 64)}\n-----END PRIVATE KEY-----`, 'private-key'],
    ['a PEM certificate', '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----', 'private-key'],
    ['an OpenSSH key', '-----BEGIN OPENSSH PRIVATE KEY-----', 'private-key'],
    ['an AWS access key id', awsKeyId, 'aws-access-key-id'],
    ['an AWS access key id in text', `aws_access_key_id is ${awsKeyId}.`, 'aws-access-key-id'],
    ['a temporary AWS access key id', `ASIA${randomAlnum(16).toUpperCase()}`, 'aws-access-key-id'],
    ['a JWT', jwt, 'jwt'],
    ['a URL with a password', 'postgres://orders:hunter2@db.internal:5432/orders', 'url-credentials'],
    ['an https URL with credentials', 'https://deploy:s3cr3t@registry.example.com/v2/', 'url-credentials'],
    ['a GitHub token', `ghp_${randomAlnum(36)}`, 'token-prefix'],
    ['a Slack token', 'xoxb-123456789012-1234567890123-abcdefABCDEF', 'token-prefix'],
    ['a Stripe key', `sk_live_${randomAlnum(24)}`, 'token-prefix'],
    ['a bearer header', `Bearer ${pick(HEX, 48)}`, 'bearer-token'],
    ['a connection string with a password', 'Server=db;Database=orders;User Id=app;Password=Tr0ub4dor&3;', 'embedded-credential'],
    ['a query string with a token', 'https://api.example.com/v1?limit=10&access_token=abc123def', 'embedded-credential'],
    ['a JSON snippet with a secret', '{"client_id":"orders","client_secret":"not-for-configmaps"}', 'embedded-credential'],
    ['32 hex digits', `a1${pick(HEX, 30)}`, 'hex-string'],
    ['a git commit SHA', 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', 'hex-string'],
    ['a random alphanumeric token', randomAlnum(32), 'high-entropy'],
    ['an AWS secret access key (40 random base64 characters)', pick(BASE64, 40), 'high-entropy'],
    // HTTP Basic credentials, with and without the header name
    ['an HTTP Basic credential', `Basic ${basic('deploy', 'hunter2')}`, 'basic-credentials'],
    ['an HTTP Basic credential with its header name', `Authorization: Basic ${basic('deploy', 'hunter2')}`, 'basic-credentials'],
    ['a proxy Basic credential', `Proxy-Authorization: basic ${basic('proxy-user', 'Tr0ub4dor&3')}`, 'basic-credentials'],
    ['an HTTP Basic credential with an empty user', `Basic ${basic('', 'hunter2')}`, 'basic-credentials'],
    ['an API key sent as the Basic user with an empty password', `Basic ${basic(`key_${randomAlnum(8).toLowerCase()}`, '')}`, 'basic-credentials'],
    ['an HTTP Basic credential in a curl command', `curl -H "Authorization: Basic ${basic('ci', 'p4ss')}" https://api.example.com/`, 'basic-credentials'],
    ['an HTTP Basic credential in JSON', `{"headers":{"Authorization":"Basic ${basic('svc', 'k8s-sync')}"}}`, 'basic-credentials'],
    // user:password@host without a scheme
    ['user:password@host', 'orders:hunter2@db.internal', 'userinfo-credentials'],
    ['user:password@host:port', 'orders:hunter2@db.internal:5432', 'userinfo-credentials'],
    ['user:password@ip:port', 'admin:admin@10.0.12.7:8080', 'userinfo-credentials'],
    ['user:password@host in a sentence', 'connect with app:Tr0ub4dor@db.internal.', 'userinfo-credentials'],
    ['user:password@host/path', 'deploy:s3cr3t@registry.example.com/v2/', 'userinfo-credentials'],
    ['an assignment of user:password@host', 'DATABASE=orders:hunter2@db.internal:5432', 'userinfo-credentials'],
    // other common shapes
    ['a Docker auth JSON', `{"auths":{"registry.example.com":{"auth":"${basic('ci', 'registry-pass')}"}}}`, 'embedded-credential'],
    ['a Docker auth JSON with username and password', '{"auths":{"ghcr.io":{"username":"ci","password":"registry-pass"}}}', 'embedded-credential'],
    ['a .netrc line', 'machine api.example.com login deploy password hunter2', 'netrc-credentials'],
    ['a .netrc default line', 'default login anonymous password guest', 'netrc-credentials'],
    ['a multi-line .netrc', 'machine git.example.com\n  login ci\n  password glpat-short', 'netrc-credentials'],
    ['an Authorization header with a bearer token', `Authorization: Bearer ${randomAlnum(40)}`, 'bearer-token'],
    ['an Authorization header with a short token', 'Authorization: Token abc123', 'embedded-credential'],
    ['an API key header', 'X-Api-Key: 3f9a-orders-7c1e', 'embedded-credential'],
    ['a SQL Server DSN', 'Server=db.internal;Database=orders;User Id=app;Password=hunter2;', 'embedded-credential'],
    ['an ODBC DSN', 'Driver={PostgreSQL};Server=db;Port=5432;Database=orders;Uid=app;Pwd=hunter2;', 'embedded-credential'],
    ['a postgres URL', 'postgres://u:p@h/db', 'url-credentials'],
    ['a MongoDB SRV URL', 'mongodb+srv://orders:hunter2@cluster0.example.mongodb.net/orders', 'url-credentials'],
    ['an AMQP URL', 'amqp://guest:guest@rabbit.internal:5672/', 'url-credentials'],
    ['a JDBC URL with a password parameter', 'jdbc:postgresql://db.internal:5432/orders?user=app&password=hunter2', 'embedded-credential'],
    ['a redis URL with a password only', 'redis://:hunter2@cache.internal:6379/0', 'url-credentials'],
    ['a dotenv line', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'embedded-credential'],
  ])('refuses %s', (_label, value, reason) => {
    expect(sensitiveValueReason(value)).toBe(reason);
  });

  test.each([
    ['a number', '300'],
    ['a boolean', 'true'],
    ['a log level', 'debug'],
    ['a duration', '30m'],
    ['a URL without credentials', 'https://api.example.com/v1/orders?limit=100&sort=desc'],
    ['a URL with a user name only', 'ssh://git@github.com/org/repo.git'],
    ['a redis URL', 'redis://cache.internal:6379/0'],
    ['an RDS host name', 'db-primary.cluster-abc123xyz.eu-west-1.rds.amazonaws.com'],
    ['an ARN', 'arn:aws:sqs:us-east-1:123456789012:orders-queue'],
    ['a KMS key ARN', 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    ['an IAM role ARN', 'arn:aws:iam::123456789012:role/service-role/OrdersApiLambdaRole2024'],
    ['an ECR image', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api:1.4.2'],
    ['an image digest', `registry.example.com/orders@sha256:${pick(HEX, 64)}`],
    ['a path', '/var/lib/app/data/cache/index.db'],
    ['a Java class name', 'com.example.orders.config.DatabaseConfiguration'],
    ['a camelCase identifier', 'CamelCaseConfigurationValueForTesting123'],
    ['another one', 'K8sClusterAutoscalerV2Config'],
    ['an ISO date', '2025-01-21T10:30:00Z'],
    ['a UUID', randomUUID()],
    ['an id with a UUID', `tenant-${randomUUID()}-Eu`],
    ['AWS resource ids', 'subnet-0f3a9c27e81b4d6a5,subnet-0e9a7b1c2d3f4a5b6'],
    ['a pod name', 'orders-api-7d9f8b6c5d-x2k4p'],
    ['a time zone', 'America/Argentina/Buenos_Aires'],
    ['a cipher list', 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256'],
    ['JVM options', '-Xms512m -Xmx2048m -XX:+UseG1GC -XX:MaxGCPauseMillis=200'],
    ['a JSON snippet', '{"retries":3,"backoff":"exponential","maxDelayMs":2000,"jitter":true}'],
    ['a JSON snippet with a numeric token setting', '{"token_ttl": 30, "key_rotation": false}'],
    ['a user agent', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'],
    ['a Kafka broker list', 'kafka-1.internal:9092,kafka-2.internal:9092,kafka-3.internal:9092'],
    ['a long run of one character', 'x'.repeat(10_000)],
    // shapes near the credential patterns that must still pass
    ['host:port', 'db.internal:5432'],
    ['an IP and port', '10.0.12.7:8080'],
    ['an e-mail address', 'ops@example.com'],
    ['a list of e-mail addresses', 'ops@example.com, oncall+orders@example.co.uk'],
    ['a mailto URL', 'mailto:ops@example.com'],
    ['a SIP address', 'sip:alice@voip.example.com'],
    ['an scp-style git remote', 'git@github.com:example/orders.git'],
    ['an SSH target with a port', 'deploy@bastion.example.com:22'],
    ['an image with a tag and a digest', `registry.example.com/orders-api:1.4.2@sha256:${pick(HEX, 64)}`],
    ['a semantic version', '1.4.2-rc.1+build.5'],
    ['an npm package with a version', '@aws-sdk/client-ssm@3.1169.0'],
    ['a time of day', '10:30'],
    ['an ISO date with an offset', '2025-01-21T10:30:00+01:00'],
    ['plain words', 'orders service'],
    ['the word Basic in prose', 'Basic plan, upgrade to Premium for SSO'],
    ['the word Basic before a short word', 'Basic auth disabled'],
    ['a sentence about passwords', 'Password reset links expire after 30 minutes'],
    ['a .netrc-like sentence without a password', 'machine learning models are retrained nightly'],
    ['an HTTP header without credentials', 'Content-Type: application/json'],
    ['a URL with a port and a user name only', 'https://ci@git.example.com:8443/org/repo.git'],
    ['the seed\'s sync configuration', '{"primaryRegion":"ap-east-2","replicationRegions":["ap-northeast-1","ap-southeast-1"],"lastSyncTimestamp":"2025-01-21T10:30:00Z"}'],
  ])('passes %s', (_label, value) => {
    expect(sensitiveValueReason(value)).toBeUndefined();
  });

  test('catches nearly every random mixed-case token of 24 characters or more', () => {
    const samples = Array.from({ length: 2_000 }, (_, i) => (i % 2 ? randomAlnum(24 + (i % 40)) : pick(`${ALNUM}-_`, 24 + (i % 40))));
    const caught = samples.filter((s) => sensitiveValueReason(s) !== undefined).length;
    // About 97% of 24-character random strings and all but a few in a thousand of longer ones.
    expect(caught / samples.length).toBeGreaterThan(0.97);
  });

  test('measures entropy and class changes', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(classChangeRatio('aA1')).toBe(1);
    expect(classChangeRatio('abc-def')).toBe(0);
    expect(looksRandom('aB3'.repeat(8))).toBe(false); // mixed, but three characters carry 1.6 bits
  });
});

describe('generated shapes (seeded)', () => {
  const LOWER = 'abcdefghijklmnopqrstuvwxyz';
  const word = (min: number, max: number) => pick(LOWER, min + Math.floor(random() * (max - min + 1)));
  const host = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => word(2, 10)).join('.') + '.' + pick(LOWER, 3);
  const port = () => String(1 + Math.floor(random() * 65_534));
  const int = (max: number) => String(Math.floor(random() * max));
  const password = () => pick(`${ALNUM}!$%^*()_+-=~.`, 6 + Math.floor(random() * 20)).replace(/^[-_.~]/, 'p');

  test('every user:password@host[:port] and every HTTP Basic credential is refused', () => {
    const refusedAll: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      const user = word(1, 12);
      const secret = password();
      const shapes = [
        `${user}:${secret}@${host()}`,
        `${user}:${secret}@${host()}:${port()}`,
        `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`,
        `Authorization: Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`,
      ];
      for (const shape of shapes) if (sensitiveValueReason(shape) === undefined) refusedAll.push(shape);
    }
    expect(refusedAll).toEqual([]);
  });

  test('host:port, e-mail addresses, URLs without credentials, semantic versions and ISO dates pass', () => {
    const passedAll: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      const shapes = [
        `${host()}:${port()}`,
        `${word(1, 12)}@${host()}`,
        `${word(1, 8)}.${word(1, 8)}+${word(1, 6)}@${host()}`,
        `https://${host()}:${port()}/${word(1, 10)}/${word(1, 10)}?limit=${int(1000)}&sort=${word(3, 5)}`,
        `ssh://${word(1, 8)}@${host()}:${port()}/${word(2, 10)}.git`,
        `${int(20)}.${int(50)}.${int(200)}-rc.${int(9)}+build.${int(999)}`,
        new Date(Date.UTC(2000 + Number(int(40)), Number(int(12)), 1 + Number(int(28)), Number(int(24)), Number(int(60)))).toISOString(),
        `${word(3, 10)} ${word(3, 10)} ${word(3, 10)}`,
      ];
      for (const shape of shapes) if (sensitiveValueReason(shape) !== undefined) passedAll.push(`${shape} (${sensitiveValueReason(shape)})`);
    }
    expect(passedAll).toEqual([]);
  });
});

describe('refusal reasons', () => {
  test('are fixed identifiers that never carry any part of the value', () => {
    const credential = `Zq9${randomAlnum(12)}`;
    const values = [
      `Basic ${basic('deploy', credential)}`, `deploy:${credential}@db.internal:5432`, `machine h login u password ${credential}`,
      `{"auths":{"r":{"auth":"${basic('u', credential)}"}}}`, `Server=db;User Id=app;Password=${credential};`,
      `postgres://app:${credential}@db/orders`, `Authorization: Bearer ${credential}${randomAlnum(16)}`,
    ];
    for (const value of values) {
      const reason = sensitiveValueReason(value);
      expect(reason).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(reason).not.toContain(credential.toLowerCase());
    }
  });
});

describe('keys', () => {
  test('a sensitive name is refused whatever the value; otherwise the value decides', () => {
    expect(sensitiveKeyReason('db_password', 'x')).toBe('name');
    expect(sensitiveKeyReason('upstream', 'https://u:p@host/')).toBe('url-credentials');
    expect(sensitiveKeyReason('log_level', 'info')).toBeUndefined();
  });
});
