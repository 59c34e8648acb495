/**
 * The rollout's wave rules as properties: seeded random interleavings of data changes, time,
 * controller progress (some rollouts never finish) and invocations, against an in-memory model of
 * the clusters that applies annotations the way server-side apply does for one field manager. The
 * invariants are checked at every pod template change and at the end; a failure prints its seed.
 * The same rules against the real kube-apiserver: rollout.integ.test.ts.
 */
import { assignWaves, isComplete, Rollout, WorkloadApi, WorkloadClients } from '../../lambda-src/configmap-syncer/rollout';
import type { WorkloadObject } from '../../lambda-src/shared/kubernetes';
import type { RolloutConfig, SyncTargetConfig } from '../../src/configmap-syncer/contract';
import { CONFIGMAP_FIELD_MANAGER, CONTENT_HASH_ANNOTATION, ROLLOUT_ANNOTATION } from '../../src/configmap-syncer/contract';

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
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

interface FakeWorkload {
  name: string;
  generation: number;
  annotations: Record<string, string>;
  template: Record<string, string>;
  observedGeneration: number;
  updated: number;
  stuck: boolean;
}

interface TemplateChange {
  readonly at: number;
  readonly target: number;
  readonly workload: string;
  readonly hash: string;
}

const PRIMARY = 'us-east-1';
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1', 'sa-east-1'];
const CM = 'app-config';
const HASH_KEY = `${ROLLOUT_ANNOTATION.HASH}/${CM}`;
const STATE_KEY = `${ROLLOUT_ANNOTATION.STATE}/${CM}`;
const STARTED_KEY = `${ROLLOUT_ANNOTATION.STARTED}/${CM}`;

/** One random world: clusters (one ConfigMap and one or two Deployments each) and a clock. */
class World {
  now = 1_800_000_000_000;
  readonly targets: SyncTargetConfig[];
  readonly workloads: FakeWorkload[][];
  readonly configMaps: Array<{ hash: string; changedAt: number }>;
  readonly changes: TemplateChange[] = [];
  /** Every hash each ConfigMap had, in order, with when it got it. */
  readonly history: Array<Array<{ hash: string; at: number }>>;
  private nextHash = 1;

  private readonly check: (w: World, t: number, hash: string) => void;

  constructor(
    readonly random: () => number,
    readonly config: RolloutConfig,
    readonly waves: Map<SyncTargetConfig, number>,
    check: (w: World, t: number, hash: string) => void,
    targets: SyncTargetConfig[],
  ) {
    this.targets = targets;
    this.workloads = targets.map((_t, i) => Array.from({ length: 1 + Math.floor(random() * 2) }, (_x, j) => ({
      name: `app-${i}-${j}`, generation: 1, annotations: {}, template: {}, observedGeneration: 1, updated: 2, stuck: false,
    })));
    this.configMaps = targets.map(() => ({ hash: 'h0', changedAt: this.now }));
    this.history = targets.map(() => [{ hash: 'h0', at: this.now }]);
    this.check = check;
  }

  /** A sync that changed the data: every ConfigMap gets a new hash now (server time in whole seconds). */
  changeData(): void {
    const hash = `h${this.nextHash++}`;
    const at = Math.floor(this.now / 1000) * 1000;
    this.configMaps.forEach((cm, i) => {
      cm.hash = hash;
      cm.changedAt = at;
      this.history[i].push({ hash, at });
    });
  }

  /** The controllers: each rollout in progress finishes with probability `p`, unless it is stuck. */
  progress(p: number): void {
    for (const w of this.workloads.flat()) {
      if (w.observedGeneration < w.generation && !w.stuck && this.random() < p) {
        w.observedGeneration = w.generation;
        w.updated = 2;
      }
    }
  }

  client(i: number): WorkloadApi {
    const world = this;
    const toObject = (w: FakeWorkload): WorkloadObject => ({
      kind: 'Deployment',
      namespace: 'app',
      resourceVersion: String(w.generation),
      name: w.name,
      generation: w.generation,
      annotations: { ...w.annotations },
      templateAnnotations: { ...w.template },
      observedGeneration: w.observedGeneration,
      desired: 2,
      updated: w.updated,
      available: w.updated,
      total: 2,
      managedFields: [],
    });
    return {
      async getConfigMap() {
        const cm = world.configMaps[i];
        return {
          namespace: 'app',
          name: CM,
          data: {},
          binaryDataKeys: [],
          labels: {},
          resourceVersion: '1',
          uid: 'u',
          annotations: { [CONTENT_HASH_ANNOTATION]: cm.hash },
          managedFields: [{ manager: CONFIGMAP_FIELD_MANAGER, operation: 'Apply', time: new Date(cm.changedAt).toISOString().replace(/\.\d{3}Z$/, 'Z') }],
        };
      },
      async getWorkload(_kind, _ns, name) {
        const w = world.workloads[i].find((x) => x.name === name);
        return w && toObject(w);
      },
      async listWorkloads() {
        return world.workloads[i].map(toObject);
      },
      async applyWorkloadAnnotations(request) {
        const w = world.workloads[i].find((x) => x.name === request.name)!;
        // Server-side apply by the only manager of these keys: exactly what it applies now.
        w.annotations = { ...request.annotations };
        const template = { ...(request.templateAnnotations ?? {}) };
        // A Deployment's generation counts annotation changes too.
        w.generation++;
        if (template[HASH_KEY] !== w.template[HASH_KEY]) {
          world.check(world, i, template[HASH_KEY]);
          world.changes.push({ at: world.now, target: i, workload: w.name, hash: template[HASH_KEY] });
          w.updated = 0;
          w.stuck = world.random() < 0.1;
        } else {
          // Only metadata changed: the controller observes it at once, no new pods.
          w.observedGeneration = w.observedGeneration === w.generation - 1 ? w.generation : w.observedGeneration;
        }
        w.template = template;
        return toObject(w);
      },
    };
  }
}

/**
 * Checked at every pod template change of target `t` to `hash`:
 * - the data is not older than the hash: the ConfigMap holds `hash` and kept it for the pause;
 * - every workload of an earlier wave has this data already (adopted or completed), or started
 *   it at least waveWait ago; none failed.
 */
function checkTemplateChange(w: World, t: number, hash: string): void {
  const cm = w.configMaps[t];
  expect(hash).toBe(cm.hash);
  expect(w.now - cm.changedAt).toBeGreaterThanOrEqual(w.config.pauseSeconds * 1000);
  const wave = w.waves.get(w.targets[t])!;
  w.targets.forEach((other, o) => {
    if (w.waves.get(other)! >= wave) return;
    for (const x of w.workloads[o]) {
      const state = x.annotations[STATE_KEY];
      const started = Date.parse(x.annotations[STARTED_KEY] ?? '');
      const waited = w.config.waveWaitSeconds !== undefined && state === 'rolling' && w.now - started >= w.config.waveWaitSeconds * 1000;
      const label = `${x.name} of wave ${w.waves.get(other)} (${state} ${x.annotations[HASH_KEY]}) before wave ${wave} took ${hash}`;
      expect({ label, ok: x.annotations[HASH_KEY] === w.configMaps[o].hash && (state === 'complete' || state === 'adopted' || waited) }).toEqual({ label, ok: true });
    }
  });
}

function randomWorld(seed: number): { world: World; rollout: Rollout } {
  const random = prng(seed);
  const clusters = 2 + Math.floor(random() * 4);
  const targets: SyncTargetConfig[] = Array.from({ length: clusters }, (_x, i) => ({
    cluster: { name: `c${i}`, region: i === 0 ? PRIMARY : REGIONS[Math.floor(random() * REGIONS.length)] },
    namespace: 'app',
    configMapName: CM,
    createNamespace: false,
    workloads: [{ kind: 'Deployment', labelSelector: 'app=x' }],
  }));
  const config: RolloutConfig = {
    waves: random() < 0.5 ? 'primary-first' : 'region-by-region',
    pauseSeconds: Math.floor(random() * 3) * 20,
    rolloutTimeoutSeconds: 60 + Math.floor(random() * 4) * 60,
    pollSeconds: 0,
    ...(random() < 0.4 ? { waveWaitSeconds: 30 + Math.floor(random() * 3) * 30 } : {}),
  };
  const waves = assignWaves(targets, PRIMARY, config.waves);
  const world = new World(random, config, waves, checkTemplateChange, targets);
  const clients: WorkloadClients = { client: async (c) => world.client(targets.findIndex((t) => t.cluster === c)) };
  const rollout = new Rollout(config, PRIMARY, targets, clients, { now: () => world.now, pollIntervalMs: 1 });
  return { world, rollout };
}

async function play(seed: number): Promise<void> {
  const { world, rollout } = randomWorld(seed);
  const random = world.random;
  await rollout.run(world.now);
  let dataChanges = 0;
  for (let step = 0; step < 60; step++) {
    const r = random();
    if (r < 0.15) {
      world.changeData();
      dataChanges++;
    } else if (r < 0.45) {
      world.progress(0.6);
    } else {
      world.now += Math.floor(random() * 40_000);
    }
    await rollout.run(world.now);
  }
  // No restart without a data change: at most one new template per data change per workload.
  for (const [i, list] of world.workloads.entries()) {
    for (const w of list) {
      expect(world.changes.filter((c) => c.target === i && c.workload === w.name).length).toBeLessThanOrEqual(dataChanges);
    }
  }
  // Liveness: with the data still, the controllers finishing and time passing, every wave is rolled
  // unless a stuck rollout stopped the waves after it.
  const last = world.configMaps[0].hash;
  for (let step = 0; step < 40; step++) {
    world.progress(1);
    world.now += 30_000;
    await rollout.run(world.now);
  }
  const halted = world.workloads.flat().some((w) => w.annotations[STATE_KEY] === 'failed' && w.annotations[HASH_KEY] === last);
  const firstFailedWave = Math.min(...world.targets.map((t, i) =>
    world.workloads[i].some((w) => w.annotations[STATE_KEY] === 'failed' && w.annotations[HASH_KEY] === last) ? world.waves.get(t)! : Infinity));
  world.targets.forEach((t, i) => {
    for (const w of world.workloads[i]) {
      const wave = world.waves.get(t)!;
      // With waveWait a later wave may have started before the failure showed: the check at each
      // template change covers it.
      if (halted && wave > firstFailedWave && world.config.waveWaitSeconds !== undefined) continue;
      const expected = !halted || wave <= firstFailedWave;
      const detail = { workload: w.name, wave, config: world.config, state: w.annotations[STATE_KEY] };
      expect({ ...detail, current: w.annotations[HASH_KEY] === last }).toEqual({ ...detail, current: expected });
    }
  });
}

describe('rollout waves, as properties of seeded random interleavings', () => {
  const base = Number(process.env.ROLLOUT_SEED ?? 20261207);
  const seeds = Array.from({ length: 150 }, (_x, i) => base + i);

  test.each(seeds.map((s) => [s]))('seed %i', async (seed) => {
    try {
      await play(seed);
    } catch (e) {
      // eslint-disable-next-line no-console
      console.error(`rollout wave property failed for ROLLOUT_SEED=${seed}`);
      throw e;
    }
  });
});

describe('waves and completion', () => {
  const target = (name: string, region: string): SyncTargetConfig => ({ cluster: { name, region }, namespace: 'a', configMapName: CM, createNamespace: false });

  test('primary-first: the primary region, then every other region at once', () => {
    const ts = [target('b', 'eu-west-1'), target('a', PRIMARY), target('c', 'ap-southeast-1'), target('d', PRIMARY)];
    expect([...assignWaves(ts, PRIMARY, 'primary-first').values()]).toEqual([1, 0, 1, 0]);
  });

  test('region-by-region: one wave per region in the order the targets name them', () => {
    const ts = [target('b', 'eu-west-1'), target('a', PRIMARY), target('c', 'ap-southeast-1'), target('e', 'eu-west-1')];
    expect([...assignWaves(ts, PRIMARY, 'region-by-region').values()]).toEqual([1, 0, 2, 1]);
  });

  test('a rollout is complete only when the controller saw it and every replica is updated, available and alone', () => {
    const t = target('a', PRIMARY);
    const w: WorkloadObject = {
      kind: 'Deployment',
      namespace: 'a',
      resourceVersion: '7',
      name: 'w',
      generation: 3,
      annotations: {},
      templateAnnotations: { [HASH_KEY]: 'h' },
      observedGeneration: 3,
      desired: 2,
      updated: 2,
      available: 2,
      total: 2,
      managedFields: [],
    };
    expect(isComplete(w, 'h', t)).toBe(true);
    expect(isComplete({ ...w, observedGeneration: 2 }, 'h', t)).toBe(false);
    expect(isComplete({ ...w, updated: 1 }, 'h', t)).toBe(false);
    expect(isComplete({ ...w, available: 1 }, 'h', t)).toBe(false);
    expect(isComplete({ ...w, total: 3 }, 'h', t)).toBe(false);
    expect(isComplete(w, 'other', t)).toBe(false);
    expect(isComplete({ ...w, kind: 'StatefulSet', currentRevision: 'r1', updateRevision: 'r2' }, 'h', t)).toBe(false);
    expect(isComplete({ ...w, kind: 'StatefulSet', currentRevision: 'r2', updateRevision: 'r2' }, 'h', t)).toBe(true);
  });
});
