/**
 * Construct Hub and the Python, Java and Go docs are generated from the jsii assembly (.jsii, made
 * by `npx projen compile` before the tests): every exported type and member has a summary, and
 * every optional property of a struct says what happens when it is left out (`@default`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ASSEMBLY = path.join(__dirname, '..', '.jsii');

interface Docs { summary?: string; default?: string; remarks?: string }
interface Property { name: string; optional?: boolean; docs?: Docs }
interface Method { name: string; docs?: Docs }
interface Type {
  fqn: string;
  kind: string;
  datatype?: boolean;
  docs?: Docs;
  properties?: Property[];
  methods?: Method[];
  members?: Array<{ name: string; docs?: Docs }>;
}

const assembly = JSON.parse(fs.readFileSync(ASSEMBLY, 'utf8')) as { types: Record<string, Type> };
const types = Object.values(assembly.types);

test('the assembly has the constructs and their types', () => {
  const names = types.map((t) => t.fqn.split('.').pop());
  for (const name of ['CrossRegionSecretReplicator', 'ConfigDriftDetector', 'ConfigMapSyncer', 'MultiRegionPipeline', 'CrossRegionConfigManagement',
    'CrossRegionParameterReplicator', 'ParameterSelection', 'ParameterOverride']) {
    expect(names).toContain(name);
  }
});

test('every exported type has a summary', () => {
  expect(types.filter((t) => !t.docs?.summary).map((t) => t.fqn)).toEqual([]);
});

test('every property, method and enum member has a summary', () => {
  const missing = types.flatMap((t) => [
    ...(t.properties ?? []).filter((p) => !p.docs?.summary).map((p) => `${t.fqn}.${p.name}`),
    ...(t.methods ?? []).filter((m) => !m.docs?.summary).map((m) => `${t.fqn}.${m.name}()`),
    ...(t.members ?? []).filter((m) => !m.docs?.summary).map((m) => `${t.fqn}.${m.name}`),
  ]);
  expect(missing).toEqual([]);
});

test('every optional property of a struct documents its @default', () => {
  const missing = types.filter((t) => t.kind === 'interface' && t.datatype)
    .flatMap((t) => (t.properties ?? []).filter((p) => p.optional && !p.docs?.default).map((p) => `${t.fqn}.${p.name}`));
  expect(missing).toEqual([]);
});
