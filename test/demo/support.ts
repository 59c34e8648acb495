/**
 * What every part of the Quick start demo shares: the synthesized app, the local emulators, the
 * handler logs and results collected for the leak check, and the helpers that run a synthesized
 * function's real bundle in a fresh Node process.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import type { DemoConfigStack, DemoPipelineStack } from './demo-app';
import type { ConfigWorld } from '../drift-detector/world';
import type { FaultProxy } from '../harness/fault-proxy';

export type CfnResources = Record<string, { Type: string; Properties?: any }>;

/** The demo's state, shared by its parts. */
export interface Demo {
  /** The cloud assembly directory. */
  readonly outdir: string;
  readonly config: DemoConfigStack;
  readonly configResources: CfnResources;
  readonly pipelineStack: DemoPipelineStack;
  readonly pipelineResources: CfnResources;
  /** moto behind the fault-injecting proxy: every handler's AWS calls go through `proxy.endpoint`. */
  readonly proxy: FaultProxy;
  /** moto itself, for arranging and inspecting state. */
  readonly motoEndpoint: string;
  readonly world: ConfigWorld;
  /** The SDK settings of every handler process: the proxy as endpoint, test credentials, the primary region. */
  readonly awsEnv: NodeJS.ProcessEnv;
  /** Every handler log line (JSON logs and EMF documents): scanned for values at the end. */
  readonly logLines: string[];
  /** Every handler result and report body: scanned for values at the end, like the logs. */
  readonly outputs: string[];
  /** Stand-ins for deploy-time references (`{"Ref": logicalId}`): what the demo created in the emulator in their place. */
  readonly refs: Record<string, string>;
}

export function step(title: string): void {
  console.log(`\n== ${title}`);
}

export function elapsed(start: bigint): string {
  return `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0)} ms`;
}

/** The logical id of the CloudFormation resource behind an L2 construct. */
export function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as any);
}

/** The synthesized properties of the CloudFormation resource behind `construct`. */
export function cfnProperties(resources: CfnResources, construct: IConstruct): any {
  return resources[logicalId(construct)].Properties;
}

/** The handler bundle of a synthesized function: its asset (by the hash in its S3 key) in the cloud assembly. */
export function bundleOf(assemblyDir: string, stack: Stack, fn: any): string {
  const hash = String(fn.Code.S3Key).replace(/\.zip$/, '');
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, `${stack.artifactId}.assets.json`), 'utf8'));
  return path.join(assemblyDir, manifest.files[hash].source.path, 'index.js');
}

/** One line describing a synthesized function and its bundle. */
export function describeFunction(name: string, fn: any, bundle: string, assemblyDir: string): string {
  return `${name} handler: ${fn.Runtime} on ${fn.Architectures.join(',')}, ${fn.MemorySize} MB, ${fn.Timeout} s; `
    + `bundle ${(fs.statSync(bundle).size / 1024).toFixed(0)} KiB at ${path.relative(assemblyDir, bundle)}`;
}

/**
 * A function's environment as synthesized: literal values as they are; deploy-time references
 * (`{"Ref": logicalId}`) replaced by what the demo created in the emulator in their place. Any other
 * unresolved value fails, so the demo never runs with an environment the stack would not give.
 */
export function synthesizedEnvironment(fn: any, refs: Record<string, string>): Record<string, string> {
  // A literal, a stood-in reference, or a join of those; undefined for anything else.
  const resolve = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    const ref = (value as { Ref?: string })?.Ref;
    if (ref !== undefined) return refs[ref];
    const join = (value as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join'];
    if (join === undefined) return undefined;
    const parts = join[1].map(resolve);
    return parts.every((p) => p !== undefined) ? parts.join(join[0]) : undefined;
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.Environment.Variables as Record<string, unknown>)) {
    const resolved = resolve(value);
    if (resolved === undefined) throw new Error(`${name} is a deploy-time value the demo does not stand in for: ${JSON.stringify(value)}`);
    env[name] = resolved;
  }
  return env;
}

/** The outcome of one handler invocation: its output lines and its result or error message. */
export interface Invocation {
  readonly logs: string[];
  readonly result?: any;
  readonly error?: string;
}

/**
 * Runs one invocation of a handler bundle in a fresh Node process, as a Lambda cold start would:
 * the handler's output (its JSON logs and EMF documents, from stdout and stderr) and its result or
 * error message.
 */
export async function runBundle(bundle: string, env: NodeJS.ProcessEnv, payload: unknown): Promise<Invocation> {
  const script = `require(${JSON.stringify(bundle)}).handler(${JSON.stringify(payload)})
    .then((r) => process.stderr.write('RESULT' + JSON.stringify(r) + '\\n'), (e) => { process.stderr.write('ERROR' + e.message + '\\n'); process.exitCode = 1; });`;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], { env, maxBuffer: 64 * 1024 * 1024 })
    .catch((e: { stdout: string; stderr: string }) => e);
  const marker = (l: string) => l.startsWith('RESULT') || l.startsWith('ERROR');
  // Powertools writes INFO and DEBUG logs to stdout, WARN and ERROR to stderr: both are the function's logs.
  const logs = [...stdout.split('\n'), ...stderr.split('\n').filter((l) => !marker(l))].filter(Boolean);
  const line = stderr.split('\n').find(marker);
  if (line === undefined) throw new Error(`the handler process ended without a result: ${stderr.slice(-2000)}`);
  return line.startsWith('ERROR') ? { logs, error: line.slice('ERROR'.length) } : { logs, result: JSON.parse(line.slice('RESULT'.length)) };
}

/** Runs a bundle like {@link runBundle} and records its logs and result in `demo` for the leak check. */
export async function invokeRecorded(demo: Demo, bundle: string, env: NodeJS.ProcessEnv, payload: unknown): Promise<Invocation> {
  const invocation = await runBundle(bundle, env, payload);
  demo.logLines.push(...invocation.logs);
  demo.outputs.push(invocation.error ?? JSON.stringify(invocation.result));
  return invocation;
}

/** Sums one metric over the EMF documents in `lines` whose dimension `dimension` is `value`. */
export function metricSum(lines: string[], name: string, dimension: string, value: string): number {
  return lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l))
    .filter((doc) => doc[dimension] === value && typeof doc[name] === 'number')
    .reduce((sum, doc) => sum + doc[name], 0);
}
