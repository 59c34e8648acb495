/**
 * Writes every EventBridge rule of the representative apps (test/rules/apps.ts) as EventBridge
 * stores it, with what the rule must match, to the JSON file named by the first argument. The Java
 * test next to this file evaluates the patterns with event-ruler, EventBridge's own matcher.
 *
 *   TS_NODE_TRANSPILE_ONLY=1 TS_NODE_PROJECT=tsconfig.dev.json npx ts-node test/rules/event-ruler/export-rules.ts out.json
 *
 * Patterns are read from the synthesized templates; the pseudo parameters in them are replaced with
 * the stack's account, region and partition, as CloudFormation does at deployment. Every rule of an
 * app that states expectations must have one, so no rule goes untested.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { ACCOUNT, PRIMARY, representativeApps, RuleExpectation } from '../apps';

interface ExportedRule extends RuleExpectation {
  /** `<app>/<construct path>`. */
  readonly id: string;
  /** The rule's EventPattern, resolved, or undefined for a schedule. */
  readonly eventPattern?: unknown;
  readonly scheduleExpression?: string;
  readonly state?: string;
}

/** Resolves the intrinsic functions CDK writes into event patterns: pseudo parameters and Fn::Join. */
function resolve(value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, where));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === 'Ref') {
    const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': PRIMARY, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com' };
    const ref = obj.Ref as string;
    if (pseudo[ref] === undefined) throw new Error(`${where}: cannot resolve {"Ref": "${ref}"} in an event pattern`);
    return pseudo[ref];
  }
  if (keys.length === 1 && keys[0] === 'Fn::Join') {
    const [delimiter, parts] = obj['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => {
      const resolved = resolve(p, where);
      if (typeof resolved !== 'string') throw new Error(`${where}: Fn::Join part ${JSON.stringify(p)} is not a string`);
      return resolved;
    }).join(delimiter);
  }
  if (keys.some((k) => k.startsWith('Fn::'))) throw new Error(`${where}: cannot resolve ${JSON.stringify(obj)} in an event pattern`);
  return Object.fromEntries(keys.map((k) => [k, resolve(obj[k], where)]));
}

export function exportRules(outdir: string): ExportedRule[] {
  const rules: ExportedRule[] = [];
  for (const { name, app, rules: expectations } of representativeApps(outdir)) {
    if (expectations.length === 0) continue;
    // Construct paths by stack and logical id (templates carry path metadata only under the CDK CLI).
    const paths = new Map<string, string>();
    for (const c of app.node.findAll()) {
      if (CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::Events::Rule') {
        paths.set(`${Stack.of(c).artifactId}/${Stack.of(c).getLogicalId(c)}`, c.node.path.replace(/\/Resource$/, ''));
      }
    }
    const assembly = app.synth();
    const found = new Set<string>();
    for (const stack of assembly.stacks) {
      for (const [logicalId, resource] of Object.entries<any>(stack.template.Resources ?? {})) {
        if (resource.Type !== 'AWS::Events::Rule') continue;
        const cdkPath = paths.get(`${stack.id}/${logicalId}`) ?? `${stack.id}/${logicalId}`;
        const expectation = expectations.find((e) => e.rulePath === cdkPath);
        if (!expectation) throw new Error(`${name}: the rule ${cdkPath} has no expectation in test/rules/apps.ts`);
        found.add(cdkPath);
        const id = `${name}/${cdkPath}`;
        const props = resource.Properties ?? {};
        rules.push({
          ...expectation,
          id,
          eventPattern: props.EventPattern === undefined ? undefined : resolve(props.EventPattern, id),
          scheduleExpression: props.ScheduleExpression,
          state: props.State,
        });
      }
    }
    const missing = expectations.filter((e) => !found.has(e.rulePath)).map((e) => e.rulePath);
    if (missing.length > 0) throw new Error(`${name}: no rule synthesized at ${missing.join(', ')}`);
  }
  return rules;
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: export-rules.ts <output.json>');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-rules-'));
  try {
    const rules = exportRules(outdir);
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ account: ACCOUNT, region: PRIMARY, rules }, undefined, 2));
    console.log(`export-rules: ${rules.length} rules (${rules.filter((r) => r.eventPattern).length} event patterns, `
      + `${rules.filter((r) => r.scheduleExpression).length} schedules) written to ${file}`);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
