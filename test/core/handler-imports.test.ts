/**
 * The handler import graph: sibling handlers stand side by side, what two of them share lives in
 * lambda-src/shared (which imports no handler), and no import circle exists. Parses the import,
 * side-effect import, export-from, require() and import() lines of every file under lambda-src.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const LAMBDA_SRC = path.join(REPO_ROOT, 'lambda-src');

/**
 * Imports of a construct's src/ contract from lambda-src/shared that stand until the construct side
 * moves these contracts into a shared src location (one file re-exports them for every handler).
 */
const SHARED_CONTRACT_IMPORTS: ReadonlyArray<readonly [string, string]> = [
  ['lambda-src/shared/secrets/contract.ts', 'src/secret-replicator/contract.ts'],
  ['lambda-src/shared/parameters/contract.ts', 'src/parameter-replicator/contract.ts'],
];

const IMPORT_PATTERN = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|cjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The repository-relative file a relative specifier names, or undefined for a package. */
function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  const found = [`${base}.ts`, `${base}.cjs`, `${base}.js`, path.join(base, 'index.ts'), base]
    .find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  if (!found) throw new Error(`${path.relative(REPO_ROOT, from)} imports ${specifier}, which does not resolve`);
  return path.relative(REPO_ROOT, found).split(path.sep).join('/');
}

/** Repository-relative file -> the repository-relative files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(LAMBDA_SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    const targets = new Set<string>();
    for (const m of text.matchAll(IMPORT_PATTERN)) {
      const target = resolveImport(file, m[1] ?? m[2] ?? m[3] ?? m[4]);
      if (target) targets.add(target);
    }
    graph.set(path.relative(REPO_ROOT, file).split(path.sep).join('/'), [...targets].sort());
  }
  return graph;
}

/** The shared construct-side code a handler may import: `src/private` (and a named `src/core`, if the constructs get one). */
const SRC_CORES: ReadonlySet<string> = new Set(['src/private', 'src/core']);

/** `lambda-src/<construct>` or `src/<construct>` of a file, `lambda-src/shared` or `src/private` for the cores. */
function folderOf(file: string): string {
  return file.split('/').slice(0, 2).join('/');
}

/** Every import circle: the strongly connected groups of more than one file, or a file importing itself. */
export function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

const GRAPH = importGraph();
const EDGES = [...GRAPH].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));

test('the graph covers every handler folder and the shared core', () => {
  const folders = new Set([...GRAPH.keys()].map(folderOf));
  expect([...folders].sort()).toEqual([
    'lambda-src/configmap-syncer', 'lambda-src/drift-detector', 'lambda-src/multi-region-pipeline', 'lambda-src/parameter-replicator',
    'lambda-src/secret-replicator', 'lambda-src/shared',
  ]);
  expect(EDGES.length).toBeGreaterThan(50);
});

test('no handler imports a sibling handler\'s folder', () => {
  const crossing = EDGES.filter(({ from, to }) => to.startsWith('lambda-src/') && folderOf(from) !== 'lambda-src/shared'
    && folderOf(to) !== 'lambda-src/shared' && folderOf(to) !== folderOf(from));
  expect(crossing).toEqual([]);
});

test('a handler imports from src/ only its own construct\'s files and the shared src core', () => {
  const foreign = EDGES.filter(({ from, to }) => from.startsWith('lambda-src/') && folderOf(from) !== 'lambda-src/shared'
    && to.startsWith('src/') && folderOf(to) !== `src/${from.split('/')[1]}` && !SRC_CORES.has(folderOf(to)));
  expect(foreign).toEqual([]);
});

test('lambda-src/shared imports no handler and no construct (but the listed shared contracts)', () => {
  const allowed = new Set(SHARED_CONTRACT_IMPORTS.map(([from, to]) => `${from} -> ${to}`));
  const upward = EDGES.filter(({ from, to }) => folderOf(from) === 'lambda-src/shared'
    && ((to.startsWith('lambda-src/') && folderOf(to) !== 'lambda-src/shared')
      || (to.startsWith('src/') && !SRC_CORES.has(folderOf(to)) && !allowed.has(`${from} -> ${to}`))));
  expect(upward).toEqual([]);
});

test('lambda-src has no import circles', () => {
  expect(importCircles(GRAPH)).toEqual([]);
});

test('the circle finder finds circles of every length, and only those', () => {
  const graph = new Map<string, string[]>([
    ['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []], ['e', ['e']], ['f', ['d', 'g']], ['g', ['f']],
  ]);
  expect(importCircles(graph).sort()).toEqual([['a', 'b', 'c'], ['e'], ['f', 'g']]);
  expect(importCircles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
});
