/**
 * The README's Quick start main job, run as CI runs every test: the demo (test/demo/demo.ts) synthesizes
 * the demo app and runs every handler's real bundle against the local emulators. It must finish, show
 * each part, and find none of the values it wrote in any log line, result or report.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..');

test('the demo runs every part end to end and leaks no value', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', 'ts-node/register', 'test/demo/demo.ts'], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: 'tsconfig.dev.json', TS_NODE_TRANSPILE_ONLY: 'true' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 540_000,
  });
  for (const part of [
    '== Secret replicator:', '== Drift detector:', '== Parameter replicator:', '== ConfigMap syncer:',
    '== MultiRegionPipeline:', '== Config parity gate:', '== Failover readiness:',
  ]) {
    expect(stdout).toContain(part);
  }
  expect(stdout).toContain('PutJobFailureResult');
  expect(stdout).toContain('PutJobSuccessResult');
  expect(stdout).toMatch(/RolloutsStarted=1, RolloutsCompleted=1/);
  // The demo's own closing line: every value it wrote, searched for in everything the handlers printed.
  expect(stdout).toMatch(/: 0 of the [1-9]\d* secret and parameter values the demo wrote found in them\./);
}, 600_000);
