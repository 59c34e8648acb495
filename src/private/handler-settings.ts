import { createHash } from 'crypto';
import { ArnFormat, CfnParameter, Lazy, Names, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, IConstruct } from 'constructs';
import {
  SETTINGS_CHUNK_MAGIC, SETTINGS_DOCUMENT_ENV, SETTINGS_PARAMETER_ROOT, SettingsDocumentReference,
} from './settings-contract';

/** Lambda's limit on the total size of a function's environment variables (names and values), in bytes. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/**
 * Estimated environment size up to which every setting stays in the environment. 512 bytes of
 * Lambda's 4096 stay free for variables added after us (the SDK's connection-reuse flag, a
 * consumer's `addEnvironment()`) and for the error of estimating deploy-time values.
 */
export const ENVIRONMENT_BUDGET_BYTES = 3584;
/** Largest value of a Standard-tier SSM parameter, in bytes (the Advanced tier's 8 KB is billed per parameter). */
export const STANDARD_PARAMETER_BYTES = 4096;
/** Room kept in each chunk for its first line (`SETTINGS_CHUNK_MAGIC`, version, index and count: under 80 bytes). */
const CHUNK_HEADER_RESERVE_BYTES = 128;
/** Data bytes per chunk. */
export const CHUNK_DATA_BYTES = STANDARD_PARAMETER_BYTES - CHUNK_HEADER_RESERVE_BYTES;
/**
 * Bytes assumed for a deploy-time value that is a resource's ARN, name, id or endpoint: ARNs and
 * API server URLs are under 200 characters in practice.
 */
export const TYPICAL_TOKEN_BYTES = 256;
/**
 * Bytes assumed for a deploy-time value of unbounded kind: a cluster's certificate authority data
 * (an EKS CA is about 1,450 characters of base64), an imported value, a template parameter or a
 * dynamic reference.
 */
export const LARGE_TOKEN_BYTES = 2048;
/** Hex digits of the deployment version (80 bits). */
const VERSION_HEX_DIGITS = 20;

/** The marker of a string-encoded token, e.g. `${Token[TOKEN.123]}` (aws-cdk-lib's encoding). */
const STRING_TOKEN = /\$\{Token\[[^\]]+\]\}/g;

/** Inputs of `HandlerSettings`. */
export interface HandlerSettingsProps {
  /** Variables that always stay in the environment: bounded values (regions, ARNs, flags, names). */
  readonly environment: { [name: string]: string };
  /**
   * JSON variables whose size grows with the user's selection (targets with CAs, secret names,
   * parameter paths, health checks): name to the value the handler parses from it. Undefined
   * values are left out.
   */
  readonly growable: { [name: string]: unknown };
  /** What the settings belong to, for the chunks' descriptions, e.g. `the ConfigMap syncer Stack/Syncer`. */
  readonly description: string;
}

/** A piece of the document's JSON text: literal text (split anywhere) or one deploy-time value (never split). */
interface Piece {
  readonly text: string;
  readonly bytes: number;
  readonly token: boolean;
}

/**
 * A handler's configuration, placed where it fits: in the function's environment while the whole
 * environment stays under `ENVIRONMENT_BUDGET_BYTES` (estimated), otherwise the growable variables
 * move to a settings document of Standard-tier SSM parameters that CloudFormation writes in the
 * same deployment, and the environment keeps `SETTINGS_DOCUMENT` (a `SettingsDocumentReference`).
 *
 * The document is the JSON object `{ "<variable>": <value>, ... }`, cut into chunks of at most
 * `STANDARD_PARAMETER_BYTES` (deploy-time values are never cut, and count with conservative
 * estimates). Its deployment version, a hash of the document as CloudFormation renders it (stable
 * across synths), is in the chunks' path and in each chunk's first line, so:
 * - a deployment that changes the settings creates new parameters before the function is updated
 *   and CloudFormation deletes the old ones only after the update succeeded: a running or rolled
 *   back function always finds its own document;
 * - a chunk written by another deployment (or edited by hand) is detected and refused.
 *
 * `grantRead()` gives the function `ssm:GetParametersByPath` on exactly its own path and makes it
 * depend on the chunks.
 */
export class HandlerSettings extends Construct {
  /** The function's environment variables. */
  public readonly environment: { [name: string]: string };
  /** The chunks of the settings document; empty when every setting is in the environment. */
  public readonly parameters: ssm.StringParameter[] = [];
  /** Parameter path of the chunks (contains the deployment version); undefined when there is no document. */
  public readonly documentPath?: string;
  /** Deployment version of the document; undefined when there is no document. */
  public readonly version?: string;
  /** Variables in the document (empty when there is none). */
  public readonly documentVariables: string[] = [];
  /** ARN of the chunks' path, the resource `ssm:GetParametersByPath` is authorized on. */
  private readonly pathArn?: string;

  constructor(scope: Construct, id: string, props: HandlerSettingsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const growable = Object.entries(props.growable).filter(([, value]) => value !== undefined);
    const estimate = tokenEstimator(this);
    const serialized = growable.map(([name, value]) => ({ name, value, pieces: serialize(this, value, estimate) }));

    const fixedBytes = Object.entries(props.environment).reduce((total, [name, value]) => total + name.length + valueBytes(value, estimate), 0);
    const growableBytes = serialized.reduce((total, v) => total + v.name.length + v.pieces.reduce((sum, p) => sum + p.bytes, 0), 0);
    if (fixedBytes + growableBytes <= ENVIRONMENT_BUDGET_BYTES) {
      this.environment = { ...props.environment };
      for (const { name, value, pieces } of serialized) {
        this.environment[name] = pieces.some((p) => p.token) ? stack.toJsonString(value) : JSON.stringify(value);
      }
      return;
    }

    // The document: {"NAME":value,...} as pieces.
    const pieces: Piece[] = [literal('{')];
    serialized.forEach(({ name, pieces: valuePieces }, i) => {
      pieces.push(literal(`${i > 0 ? ',' : ''}${JSON.stringify(name)}:`), ...valuePieces);
    });
    pieces.push(literal('}'));
    const chunks = chunk(pieces, CHUNK_DATA_BYTES);
    const documentText = pieces.map((p) => p.text).join('');

    this.version = Lazy.string({
      produce: () => createHash('sha256').update(JSON.stringify(stack.resolve(documentText))).digest('hex').slice(0, VERSION_HEX_DIGITS),
    });
    const relativePath = `${SETTINGS_PARAMETER_ROOT.slice(1)}/${stack.stackName}/${Names.uniqueId(this)}/${this.version}`;
    this.documentPath = `/${relativePath}`;
    this.documentVariables = serialized.map((v) => v.name);
    chunks.forEach((data, index) => {
      const parameter = new ssm.StringParameter(this, `Chunk${index}`, {
        parameterName: `${this.documentPath}/${index}`,
        simpleName: false,
        tier: ssm.ParameterTier.STANDARD,
        description: `Part ${index + 1} of ${chunks.length} of the settings of ${props.description}; written by CloudFormation, do not edit`.slice(0, 1024),
        stringValue: `${SETTINGS_CHUNK_MAGIC} ${this.version} ${index}/${chunks.length}\n${data}`,
      });
      // One parameter at a time: SSM throttles CloudFormation's concurrent writes (TooManyUpdates).
      if (index > 0) parameter.node.addDependency(this.parameters[index - 1]);
      this.parameters.push(parameter);
    });
    this.pathArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: relativePath, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });

    const reference: SettingsDocumentReference = {
      path: this.documentPath,
      version: this.version,
      chunks: chunks.length,
      variables: this.documentVariables,
    };
    this.environment = { ...props.environment, [SETTINGS_DOCUMENT_ENV]: JSON.stringify(reference) };
    const referenceBytes = SETTINGS_DOCUMENT_ENV.length + valueBytes(this.environment[SETTINGS_DOCUMENT_ENV], estimate);
    if (fixedBytes + referenceBytes > ENVIRONMENT_BUDGET_BYTES) {
      // Not reachable with this library's constructs: their other variables are bounded.
      throw new Error(`the handler's environment must fit in ${ENVIRONMENT_BUDGET_BYTES} bytes besides the settings document, but got about ${fixedBytes + referenceBytes} bytes`);
    }
  }

  /** True when the growable settings are in SSM parameters rather than the environment. */
  public get usesDocument(): boolean {
    return this.parameters.length > 0;
  }

  /**
   * Lets `handler` read the document (`ssm:GetParametersByPath` on exactly its path) and makes it
   * depend on every chunk, so CloudFormation writes the chunks before the function that reads them.
   * Does nothing when there is no document.
   */
  public grantRead(handler: lambda.Function): void {
    if (!this.pathArn) return;
    handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath'], resources: [this.pathArn] }));
    handler.node.addDependency(this);
  }
}

function literal(text: string): Piece {
  return { text, bytes: text.length, token: false };
}

/** JSON text of a literal, with every non-ASCII character escaped so one character is one byte. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The JSON text of `value` as pieces; deploy-time values become unsplittable pieces with estimated sizes. */
function serialize(scope: IConstruct, value: unknown, estimate: (token: string) => number): Piece[] {
  const stack = Stack.of(scope);
  const out: Piece[] = [];
  const push = (piece: Piece) => {
    const last = out[out.length - 1];
    if (last && !last.token && !piece.token) out[out.length - 1] = literal(last.text + piece.text);
    else out.push(piece);
  };
  const token = (text: string) => push({ text, bytes: estimate(text), token: true });
  const walk = (node: unknown): void => {
    if (node === null || node === undefined) {
      push(literal('null'));
    } else if (typeof node === 'string') {
      if (!Token.isUnresolved(node)) {
        push(literal(asciiJson(node)));
        return;
      }
      push(literal('"'));
      let at = 0;
      for (const match of node.matchAll(STRING_TOKEN)) {
        if (match.index! > at) push(literal(asciiJson(node.slice(at, match.index)).slice(1, -1)));
        token(match[0]);
        at = match.index! + match[0].length;
      }
      if (at < node.length) push(literal(asciiJson(node.slice(at)).slice(1, -1)));
      push(literal('"'));
    } else if (typeof node === 'number') {
      if (Token.isUnresolved(node)) token(Tokenization.stringifyNumber(node));
      else push(literal(JSON.stringify(node)));
    } else if (typeof node === 'boolean') {
      push(literal(String(node)));
    } else if (Array.isArray(node)) {
      if (Token.isUnresolved(node)) {
        token(stack.toJsonString(node));
        return;
      }
      push(literal('['));
      node.forEach((item, i) => {
        if (i > 0) push(literal(','));
        walk(item);
      });
      push(literal(']'));
    } else if (Tokenization.isResolvable(node)) {
      token(stack.toJsonString(node));
    } else {
      push(literal('{'));
      Object.entries(node as Record<string, unknown>).filter(([, v]) => v !== undefined).forEach(([key, v], i) => {
        push(literal(`${i > 0 ? ',' : ''}${asciiJson(key)}:`));
        walk(v);
      });
      push(literal('}'));
    }
  };
  walk(value);
  return out;
}

/** Cuts the pieces into chunks of at most `budget` (estimated) bytes; a deploy-time value is never cut. */
function chunk(pieces: Piece[], budget: number): string[] {
  const chunks: string[] = [];
  let text = '';
  let bytes = 0;
  const flush = () => {
    chunks.push(text);
    text = '';
    bytes = 0;
  };
  for (const piece of pieces) {
    if (piece.token) {
      if (bytes + piece.bytes > budget && bytes > 0) flush();
      text += piece.text;
      bytes += piece.bytes;
      continue;
    }
    let rest = piece.text;
    while (rest.length > 0) {
      if (bytes >= budget) flush();
      const take = rest.slice(0, budget - bytes);
      text += take;
      bytes += take.length;
      rest = rest.slice(take.length);
    }
  }
  if (bytes > 0 || chunks.length === 0) flush();
  return chunks;
}

/** Estimated deployed bytes of an environment value (a literal exactly; deploy-time values as `tokenEstimator` estimates them). */
function valueBytes(value: string, estimate: (token: string) => number): number {
  if (!Token.isUnresolved(value)) return Buffer.byteLength(value);
  let bytes = 0;
  let at = 0;
  for (const match of value.matchAll(STRING_TOKEN)) {
    bytes += Buffer.byteLength(value.slice(at, match.index)) + estimate(match[0]);
    at = match.index! + match[0].length;
  }
  return bytes + Buffer.byteLength(value.slice(at));
}

/**
 * An estimator of the deployed bytes of one deploy-time value, from what CloudFormation will evaluate:
 * pseudo parameters by their known lengths, joins by their parts, a resource's ARN, name, id or
 * endpoint as `TYPICAL_TOKEN_BYTES`, and anything of unbounded size (certificate authority data,
 * imported values, template parameters, dynamic references) as `LARGE_TOKEN_BYTES`.
 */
export function tokenEstimator(scope: IConstruct): (token: string) => number {
  const stack = Stack.of(scope);
  const templateParameters = new Set(stack.node.findAll()
    .filter((c): c is CfnParameter => c instanceof CfnParameter)
    .map((p) => stack.resolve(p.logicalId)));
  const pseudo: { [name: string]: number } = {
    'AWS::AccountId': 12,
    'AWS::Partition': 10, // aws-us-gov
    'AWS::Region': Token.isUnresolved(stack.region) ? 16 : stack.region.length,
    'AWS::URLSuffix': 16, // amazonaws.com.cn
    'AWS::NoValue': 0,
  };
  const estimate = (node: unknown): number => {
    if (typeof node === 'string') return Buffer.byteLength(node) + (node.includes('{{resolve:') ? LARGE_TOKEN_BYTES : 0);
    if (typeof node === 'number' || typeof node === 'boolean') return String(node).length;
    if (node === null || node === undefined) return 4;
    if (Array.isArray(node)) return node.reduce((sum: number, n) => sum + estimate(n) + 1, 2);
    const obj = node as Record<string, any>;
    const [fn] = Object.keys(obj);
    const arg = obj[fn];
    if (Object.keys(obj).length !== 1) return LARGE_TOKEN_BYTES;
    if (fn === 'Ref') {
      if (pseudo[arg] !== undefined) return pseudo[arg];
      return templateParameters.has(arg) || String(arg).startsWith('AWS::') ? LARGE_TOKEN_BYTES : TYPICAL_TOKEN_BYTES;
    }
    if (fn === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
      const parts = arg[1] as unknown[];
      return parts.reduce((sum: number, p) => sum + estimate(p), String(arg[0]).length * Math.max(0, parts.length - 1));
    }
    if (fn === 'Fn::GetAtt') {
      const attribute = Array.isArray(arg) ? String(arg[1]) : String(arg).split('.').slice(1).join('.');
      return /CertificateAuthority/i.test(attribute) ? LARGE_TOKEN_BYTES : TYPICAL_TOKEN_BYTES;
    }
    if (fn === 'Fn::ImportValue' && typeof arg === 'string') {
      // CDK names its exports after the exported expression; any other export may hold anything.
      return arg.includes(':ExportsOutput') && !/CertificateAuthority/i.test(arg) ? TYPICAL_TOKEN_BYTES : LARGE_TOKEN_BYTES;
    }
    return LARGE_TOKEN_BYTES;
  };
  return (token: string) => {
    try {
      return estimate(stack.resolve(token));
    } catch {
      // A reference CDK cannot render here (e.g. to an unnamed resource of another environment).
      return LARGE_TOKEN_BYTES;
    }
  };
}
