import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SETTINGS_DOCUMENT_ENV, SettingsDocumentReference } from '../../src/private/settings-contract';

/**
 * Reads a function's settings out of a synthesized template the way CloudFormation would deploy
 * them: literal values as they are, pseudo parameters by the values given, and any other
 * deploy-time value by `standIn(intrinsic)`.
 */

/** Values of the pseudo parameters a test deploys with. */
export const TEST_PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': '123456789012',
  'AWS::Region': 'us-east-1',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** What a deploy-time value becomes; the default refuses, so a test names every stand-in. */
export type StandIn = (intrinsic: Record<string, unknown>) => string;

const refuse: StandIn = (intrinsic) => {
  throw new Error(`no stand-in for the deploy-time value ${JSON.stringify(intrinsic)}`);
};

/** Renders a CloudFormation value to the string CloudFormation would produce. */
export function renderCfn(node: unknown, standIn: StandIn = refuse, pseudo: Record<string, string> = TEST_PSEUDO): string {
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  const obj = node as Record<string, any>;
  if (obj?.Ref !== undefined && pseudo[obj.Ref] !== undefined) return pseudo[obj.Ref];
  if (obj?.['Fn::Join']) {
    const [delimiter, parts] = obj['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => renderCfn(p, standIn, pseudo)).join(delimiter);
  }
  return standIn(obj);
}

/** A function's settings as deployed: its environment and the parameters of its settings document. */
export interface DeployedSettings {
  readonly environment: Record<string, string>;
  readonly reference?: SettingsDocumentReference;
  /** The document's chunks, in order; empty without a document. */
  readonly parameters: Array<{ readonly name: string; readonly value: string }>;
}

/** The settings of the function `functionLogicalId` in `template` (the JSON of a synthesized stack). */
export function deployedSettings(template: any, functionLogicalId: string, standIn: StandIn = refuse): DeployedSettings {
  const fn = template.Resources[functionLogicalId];
  if (fn?.Type !== 'AWS::Lambda::Function') throw new Error(`${functionLogicalId} is not a function of the template`);
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.Properties.Environment.Variables as Record<string, unknown>)) {
    environment[name] = renderCfn(value, standIn);
  }
  const raw = environment[SETTINGS_DOCUMENT_ENV];
  if (raw === undefined) return { environment, parameters: [] };
  const reference = JSON.parse(raw) as SettingsDocumentReference;
  const parameters = Object.values(template.Resources as Record<string, any>)
    .filter((r) => r.Type === 'AWS::SSM::Parameter')
    .map((r) => ({ name: renderCfn(r.Properties.Name, standIn), value: renderCfn(r.Properties.Value, standIn) }))
    .filter((p) => p.name.startsWith(`${reference.path}/`))
    .sort((a, b) => Number(a.name.slice(reference.path.length + 1)) - Number(b.name.slice(reference.path.length + 1)));
  return { environment, reference, parameters };
}

/** Writes the parameters as CloudFormation would (Standard tier, String). */
export async function putParameters(ssm: SSMClient, parameters: DeployedSettings['parameters']): Promise<void> {
  for (const p of parameters) {
    await ssm.send(new PutParameterCommand({ Name: p.name, Value: p.value, Type: 'String', Tier: 'Standard', Overwrite: true }));
  }
}
