import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { representativeApps } from './apps';

/**
 * cfn-lint (AWS's CloudFormation linter, pinned in .ci/setup-cfn-lint.sh) over every template of the
 * representative apps: each construct with defaults and with its main options, the snapshot stacks,
 * the integ apps and the demo app, including the pipeline's stage stacks in nested assemblies.
 *
 * cfn-lint runs once without the ignore list of .cfnlintrc.yaml; the test applies that list itself,
 * so it can report what each ignored rule hides and fail when an ignored rule no longer occurs.
 */

const REPO = path.resolve(__dirname, '../..');
const CONFIG = path.join(REPO, '.cfnlintrc.yaml');
const CFN_LINT = path.join(REPO, '.cache/cfn-lint-venv/bin/cfn-lint');

interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path?: Array<string | number> };
}

/** The `- <item>` lines under a top-level key of the (flat) .cfnlintrc.yaml. */
function listUnder(yamlText: string, key: string): string[] {
  const items: string[] = [];
  let inside = false;
  for (const line of yamlText.split('\n')) {
    if (/^\S/.test(line)) inside = line.startsWith(`${key}:`);
    const item = /^\s+-\s+(\S+)/.exec(line);
    if (inside && item) items.push(item[1]);
  }
  return items;
}

function templatesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return templatesUnder(full);
    return entry.name.endsWith('.template.json') ? [full] : [];
  });
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

describe('cfn-lint over every synthesized template', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-'));
  let templates: string[] = [];
  let findings: Finding[] = [];
  const configText = fs.readFileSync(CONFIG, 'utf8');
  const ignored = listUnder(configText, 'ignore_checks');
  const regions = listUnder(configText, 'regions');

  beforeAll(() => {
    // Idempotent: installs the pinned cfn-lint into .cache/cfn-lint-venv when it is missing.
    execFileSync('bash', [path.join(REPO, '.ci/setup-cfn-lint.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (const { app } of representativeApps(outdir)) app.synth();
    templates = templatesUnder(outdir).sort();
    // The regions of the config, without its ignore list (a config file given on the command line
    // replaces .cfnlintrc.yaml). Exit codes are bit flags of the levels found; the JSON says the same.
    const bare = path.join(outdir, 'regions-only.cfnlintrc.yaml');
    fs.writeFileSync(bare, JSON.stringify({ regions }));
    let stdout: string;
    try {
      stdout = execFileSync(CFN_LINT, ['--config-file', bare, '--format', 'json', '--', ...templates],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    } catch (e: any) {
      if (typeof e.stdout !== 'string' || !e.stdout.trim().startsWith('[')) throw e;
      stdout = e.stdout;
    }
    findings = JSON.parse(stdout);
  }, 300_000);

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('lints every template of every representative app', () => {
    const relative = templates.map((t) => path.relative(outdir, t));
    const perApp = countBy(relative, (t) => t.split(path.sep)[0]);
    const kept = findings.filter((f) => !ignored.includes(f.Rule.Id));
    const hidden = findings.filter((f) => ignored.includes(f.Rule.Id));
    const errors = kept.filter((f) => f.Level === 'Error');
    const warnings = kept.filter((f) => f.Level === 'Warning');
    console.log([
      `${execFileSync(CFN_LINT, ['--version'], { encoding: 'utf8' }).trim()} over ${templates.length} templates `
        + `of ${Object.keys(perApp).length} apps (regions ${regions.join(', ')})`,
      `  templates per app: ${JSON.stringify(perApp)}`,
      `  errors: ${errors.length} ${JSON.stringify(countBy(errors, (f) => f.Rule.Id))}`,
      `  warnings: ${warnings.length} ${JSON.stringify(countBy(warnings, (f) => f.Rule.Id))}`,
      `  ignored by .cfnlintrc.yaml: ${hidden.length} ${JSON.stringify(countBy(hidden, (f) => `${f.Level} ${f.Rule.Id}`))}`,
    ].join('\n'));

    // Every construct's apps, the three integ apps and the demo app, with the pipeline stage stacks.
    expect(Object.keys(perApp)).toEqual(expect.arrayContaining([
      'replicator-defaults', 'replicator-options', 'drift-defaults', 'syncer-defaults', 'syncer-options', 'pipeline-defaults',
      'pipeline-blue-green', 'one-stop', 'dashboard', 'integ-secret-replicator', 'integ-config-drift-detector',
      'integ-multi-region-pipeline', 'demo',
    ]));
    expect(relative.filter((t) => t.includes('assembly-')).length).toBeGreaterThan(0);
    expect(kept.map((f) => `${f.Level} ${f.Rule.Id} ${path.relative(outdir, f.Filename)} ${JSON.stringify(f.Location.Path)}: ${f.Message}`)).toEqual([]);
  });

  test('ignores only rules that still occur, each with its reason in .cfnlintrc.yaml', () => {
    for (const id of ignored) {
      expect(configText).toMatch(new RegExp(`# ${id} \\([^)]+\\): \\S`));
      expect({ id, found: findings.some((f) => f.Rule.Id === id) }).toEqual({ id, found: true });
    }
  });

  test('ignores E3703 only for the Fn::Join role ARNs of the pipeline deploy actions', () => {
    // The one ignored error rule: keep it from hiding any other pipeline action problem.
    for (const f of findings.filter((x) => x.Rule.Id === 'E3703')) {
      expect(f.Message).toBe('Prefer using Fn::Sub over Fn::Join with an empty delimiter');
      expect(f.Location.Path?.slice(-2)).toEqual(['Configuration', 'RoleArn']);
    }
  });

  test('reports an error in a broken template with the same settings', () => {
    // Guards the test above against a linter that reports nothing: a queue with a retention period
    // outside SQS's 60 to 1,209,600 seconds and an unknown property.
    const broken = path.join(outdir, 'broken.template.json');
    fs.writeFileSync(broken, JSON.stringify({
      Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 30, RetentionDays: 14 } } },
    }));
    let output = '[]';
    try {
      execFileSync(CFN_LINT, ['--config-file', path.join(outdir, 'regions-only.cfnlintrc.yaml'), '--format', 'json', '--', broken], { encoding: 'utf8' });
    } catch (e: any) {
      output = e.stdout;
    }
    const errors = (JSON.parse(output) as Finding[]).filter((f) => f.Level === 'Error').map((f) => f.Rule.Id);
    expect(errors).toEqual(expect.arrayContaining(['E3002', 'E3034']));
  });

  test('the venv holds the version pinned in .ci/setup-cfn-lint.sh', () => {
    const pinned = /^CFN_LINT_VERSION='([^']+)'/m.exec(fs.readFileSync(path.join(REPO, '.ci/setup-cfn-lint.sh'), 'utf8'))?.[1];
    expect(execFileSync(CFN_LINT, ['--version'], { encoding: 'utf8' }).trim()).toBe(`cfn-lint ${pinned}`);
  });
});
