import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

/** Repository root (this file lives in `test/harness/`). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The moto server installed by `.ci/setup-moto.sh`. */
export const MOTO_SERVER_BIN = path.join(REPO_ROOT, '.venv-moto', 'bin', 'moto_server');

/** How long moto may take to answer after spawning; a cold Python start takes ~2 s here. */
const READY_TIMEOUT_MS = 30_000;
/** Pause between readiness probes. */
const READY_POLL_MS = 100;
/** How long `stop()` waits for moto to exit after SIGTERM before sending SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Characters of moto's stderr kept for error messages (its access log is one line a request). */
const STDERR_TAIL_CHARS = 8_192;
/** Spawn attempts; another process may take the free port between probing it and moto binding it. */
const SPAWN_ATTEMPTS = 3;

/** A running moto server. One process serves every region: moto reads it from the SigV4 scope. */
export interface MotoServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** Drops all state in every region and service (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Stops the server; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a moto server on a free loopback port and waits until it answers.
 *
 * Each integration test file starts its own server in `beforeAll`, so parallel jest workers never
 * share state; call `stop()` in `afterAll`.
 *
 * @example
 * let moto: MotoServer;
 * beforeAll(async () => { moto = await startMotoServer(); });
 * afterEach(() => moto.reset());
 * afterAll(() => moto.stop());
 */
export async function startMotoServer(): Promise<MotoServer> {
  if (!fs.existsSync(MOTO_SERVER_BIN)) {
    throw new Error(`moto is not installed at ${path.relative(REPO_ROOT, MOTO_SERVER_BIN)}; run \`bash .ci/setup-moto.sh\` from the repository root`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnMoto(await freePort());
    } catch (err) {
      if (attempt >= SPAWN_ATTEMPTS || !(err instanceof MotoExitedEarly)) throw err;
    }
  }
}

/**
 * Environment variables that point a handler's AWS SDK clients at `endpoint`.
 *
 * `undefined` means "unset": a developer's session token, profile or
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` must not leak into a test.
 *
 * @example
 * const restore = applyEnv(awsTestEnv(moto.endpoint, 'eu-west-1'));
 * afterAll(restore);
 */
export function awsTestEnv(endpoint: string, region: string = 'us-east-1'): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  };
}

/**
 * Sets (or, for `undefined`, deletes) variables in `process.env` and returns a function that puts
 * back the previous values. Apply before importing a handler that builds clients at module scope.
 *
 * @example
 * const restore = applyEnv({ AWS_REGION: 'eu-west-1', AWS_SESSION_TOKEN: undefined });
 * try { ... } finally { restore(); }
 */
export function applyEnv(vars: Record<string, string | undefined>): () => void {
  const previous = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  for (const [name, value] of Object.entries(vars)) setEnv(name, value);
  return () => {
    for (const [name, value] of previous) setEnv(name, value);
  };
}

function setEnv(name: string, value: string | undefined): void {
  if (value === undefined) {
    delete process.env[name];
  } else {
    process.env[name] = value;
  }
}

/** Thrown when moto exits before answering, typically because the port was taken meanwhile. */
class MotoExitedEarly extends Error {}

async function spawnMoto(port: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(MOTO_SERVER_BIN, ['-H', '127.0.0.1', '-p', String(port)], {
    cwd: REPO_ROOT,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderrTail = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    // For debugging a test run: MOTO_STDERR_FILE=/tmp/moto.log keeps moto's whole log.
    if (process.env.MOTO_STDERR_FILE) fs.appendFileSync(process.env.MOTO_STDERR_FILE, chunk);
  });
  const describe = (what: string) => `${what}\n--- moto stderr (tail) ---\n${stderrTail || '(empty)'}`;

  // A jest worker that exits without afterAll (crash, --forceExit) must not leave moto running.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('error', (err) => {
    stderrTail += `\n(could not run moto_server: ${err.message})`;
  });
  // 'close' (not 'exit') so the stderr tail is complete; 'error' alone is emitted when spawn fails.
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  let running = true;
  void exited.then(() => {
    running = false;
    process.removeListener('exit', killOnExit);
  });

  const stop = async () => {
    if (running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
  };

  try {
    await waitUntilReady(endpoint, child, () => running, describe);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    endpoint,
    port,
    stop,
    reset: async () => {
      const status = await request('POST', `${endpoint}/moto-api/reset`);
      if (status !== 200) throw new Error(describe(`moto reset answered HTTP ${status}`));
    },
  };
}

async function waitUntilReady(endpoint: string, child: ChildProcess, isRunning: () => boolean, describe: (what: string) => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isRunning()) {
      throw new MotoExitedEarly(describe(`moto exited with code ${child.exitCode} before answering on ${endpoint}`));
    }
    // The dashboard page is served by moto itself, so 200 means the whole app is loaded.
    if (await request('GET', `${endpoint}/moto-api/`).catch(() => 0) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new Error(describe(`moto did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms`));
}

/** Asks the OS for a free port on 127.0.0.1 and releases it for moto to bind. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** One request on a fresh connection (no agent), so no keep-alive socket outlives the test. */
function request(method: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.once('error', reject);
    req.end();
  });
}
