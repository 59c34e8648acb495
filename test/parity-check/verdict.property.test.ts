/**
 * The parity verdict as a property over seeded random inventories: for any primary and target
 * parameter inventories, declared per-region values and ignore rules, the differences the shared
 * comparison finds (with the parameter scope the parity check and the drift detector both build,
 * which expects each declared value instead of the primary's) are exactly the items a reference
 * model says disagree. PARITY_SEED reruns one case; a failure prints its value.
 */
import { ClientCache } from '../../lambda-src/shared/clients';
import { compareScope, LocationRead } from '../../lambda-src/shared/comparison/compare';
import { RunDigest } from '../../lambda-src/shared/comparison/digest';
import { IgnoreRules } from '../../lambda-src/shared/comparison/ignore';
import { Item } from '../../lambda-src/shared/comparison/model';
import { ParametersScope } from '../../lambda-src/shared/comparison/parameters';

const PRIMARY = 'us-east-1';
const TARGET = 'eu-west-1';
const CASES = 300;

/** A small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  /* eslint-disable no-bitwise -- the algorithm is defined in 32-bit integer arithmetic */
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /* eslint-enable no-bitwise */
}

function runCase(seed: number): void {
  const random = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const digest = new RunDigest();
  const values = ['a', 'b', 'c', 'regional-1', 'regional-2'];
  const names = Array.from({ length: 1 + Math.floor(random() * 12) }, (_, i) => `/app/p${i}`);
  const primaryValues = new Map<string, string>();
  const targetValues = new Map<string, string>();
  const overrides: Array<{ name: string; region: string; value: string }> = [];
  for (const name of names) {
    primaryValues.set(name, pick(values));
    const r = random();
    if (r < 0.3) overrides.push({ name, region: random() < 0.8 ? TARGET : 'ap-southeast-2', value: pick(values) });
    if (random() < 0.85) targetValues.set(name, random() < 0.6 ? primaryValues.get(name)! : pick(values));
  }
  const ignored = new Set(names.filter(() => random() < 0.15));
  const item = (name: string, value: string): Item => ({ kind: 'parameter', name, digest: digest.ofString(value), metadata: { type: 'String', dataType: 'text' } });
  const read = (region: string, from: Map<string, string>): LocationRead => ({
    location: { region },
    inventory: { items: new Map([...from].map(([n, v]) => [n, item(n, v)])), itemFailures: new Map() },
  });
  const primary = read(PRIMARY, primaryValues);
  const replica = read(TARGET, targetValues);
  const ignore = new IgnoreRules([...ignored].map((namePattern) => ({ kind: 'parameter' as const, namePattern })));
  // The inventories are given, so the scope never reads (its clients are never asked for).
  const scope = new ParametersScope({
    clients: new ClientCache(PRIMARY),
    primaryRegion: PRIMARY,
    replicaRegions: [TARGET],
    path: '/app',
    digest,
    keepForRemediation: false,
    excludedNames: new Set(),
    overrides,
  });
  const found = compareScope(scope, primary, [replica], { ignore, graceWindowMs: 0, reportExtraItems: false, now: new Date() }).drifts;

  // The reference model: every compared item must be present and hold its expected value.
  const expected: string[] = [];
  for (const name of [...names].sort()) {
    if (ignored.has(name)) continue;
    const held = targetValues.get(name);
    const declared = overrides.find((o) => o.name === name && o.region === TARGET)?.value;
    if (held === undefined) expected.push(`${name} MISSING_IN_REPLICA`);
    else if (held !== (declared ?? primaryValues.get(name))) expected.push(`${name} VALUE_MISMATCH`);
  }
  const got = found.map((d) => `${d.name} ${d.driftType}`);
  try {
    expect(got).toEqual(expected);
  } catch (e) {
    throw new Error(`parity verdict property failed for PARITY_SEED=${seed}: ${(e as Error).message}`);
  }
}

test('the differences are exactly the items that do not hold their expected value, over seeded random inventories', () => {
  const only = process.env.PARITY_SEED;
  const base = only !== undefined ? Number(only) : 18_000;
  for (let i = 0; i < (only !== undefined ? 1 : CASES); i++) runCase(base + i);
});
