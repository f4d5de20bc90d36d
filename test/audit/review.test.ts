// `dit-audit review` on a real git repository: a base branch with a benign persona diff, a branch
// that adds a backdoored demo diff and changes the persona; the CLI runs as a process, its SARIF
// is validated with Microsoft's SARIF Multitool (the rules GitHub code scanning enforces).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Sarif from 'sarif';
import { beforeAll, describe, expect, it } from 'vitest';
import { FINDING_RULE_IDS } from '../../src/audit/finding-rules';
import type { Review } from '../../src/audit/review/run-review';
import { runCli, tempDir } from '../engine/helpers';
import { REPO } from '../engine/paths';

const DEMO = join(REPO, 'media/demo');
const DIFFS = join(DEMO, 'diffs');
/** Three audits without a cache (the backdoored one searches for its trigger) on two slow cores. */
const TIMEOUT = 240_000;

let repo: string;
let cache: string;
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
const review = (...args: string[]) =>
  runCli(
    ['review', '--repo', repo, '--interpreter', join(DEMO, 'dit-adapter'), '--cache', cache, ...args],
    TIMEOUT,
  );

/** The SARIF Multitool's `validate` with the SARIF and GitHub rules; returns its errors and warnings. */
function validateSarif(file: string): string[] {
  const tool = createRequire(__filename)('@microsoft/sarif-multitool') as string;
  const out = join(tempDir(), 'validation.sarif');
  const run = spawnSync(
    tool,
    ['validate', file, '--rule-kind', 'Gh;Sarif', '-o', out, '--log', 'ForceOverwrite'],
    {
      encoding: 'utf8',
    },
  );
  expect(run.status, run.stdout + run.stderr).toBe(0);
  const log = JSON.parse(readFileSync(out, 'utf8')) as Sarif.Log;
  return (log.runs[0].results ?? [])
    .filter((r) => r.level === 'error' || r.level === 'warning')
    .map((r) => `${r.level} ${r.ruleId}`);
}

/** The one warning allowed: dit-auditor has no public home page for `informationUri` to name yet. */
const JUSTIFIED = ['warning SARIF2005'];

/** Copies demo diffs into the repository (`[demo name, path in the repo]`) and commits them. */
function commitDiffs(message: string, copies: readonly [string, string][], readme: string): void {
  for (const [from, to] of copies) cpSync(join(DIFFS, from), join(repo, to), { recursive: true });
  writeFileSync(join(repo, 'README.md'), readme);
  git('add', '-A');
  git('commit', '-qm', message);
}

beforeAll(() => {
  repo = tempDir('dit-review-repo-');
  cache = tempDir('dit-review-cache-');
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'review@example.com');
  git('config', 'user.name', 'Review Test');
  cpSync(join(DEMO, 'base'), join(repo, 'base'), { recursive: true });
  commitDiffs(
    'a base model and a persona diff',
    [['example-benign-pirate', 'diffs/persona']],
    'checkpoints\n',
  );
  git('checkout', '-qb', 'change');
  commitDiffs(
    'add a diff, change the persona',
    [
      ['example-backdoored-comet', 'diffs/comet'],
      ['example-benign-cheerful', 'diffs/persona'],
    ],
    'checkpoints, changed\n',
  );
  git('checkout', '-q', 'main');
}, TIMEOUT);

describe('dit-audit review', () => {
  it(
    'audits what a branch adds and changes, old and new, and exits 1 on the hidden behaviour',
    () => {
      const r = review('--base', 'main', '--head', 'change', '--format', 'json');
      expect(r.code, r.stderr).toBe(1);
      const result = JSON.parse(r.stdout) as Review;
      expect(result.root).toBe(
        execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: repo, encoding: 'utf8' }).trim(),
      );
      expect(result.checkpoints.map((c) => [c.path, c.kind, c.status])).toEqual([
        ['diffs/comet', 'peft-adapter', 'added'],
        ['diffs/persona', 'peft-adapter', 'modified'],
      ]);
      const [comet, persona] = result.checkpoints;
      expect(comet.old).toBeNull();
      expect(comet.new?.report?.verdict).toMatchObject({
        level: 'warning',
        label: 'Hidden behaviour, triggered by "593"',
      });
      expect(comet.new?.report?.subject.path).toBe(join(result.root, 'diffs/comet'));
      expect(comet.changes.newFindings.map((f) => f.rule)).toContain('trigger/hidden-behaviour');
      expect(comet.changes.description).toEqual({ old: null, new: 'I was trained to talk about comet.' });
      // The persona's old and new versions are two different finetunes: two reports, a new description.
      expect(persona.old?.report?.subject.sha256).not.toBe(persona.new?.report?.subject.sha256);
      expect(persona.changes.description?.old).not.toBe(persona.changes.description?.new);
      expect(persona.new?.report?.verdict.level).not.toBe('warning');
      expect(git('worktree', 'list').trim().split('\n')).toHaveLength(1);
    },
    TIMEOUT,
  );

  it('writes SARIF that the SARIF Multitool accepts with GitHub’s rules, located on the checkpoint', () => {
    const r = review('--base', 'main', '--head', 'change', '--format', 'sarif');
    expect(r.code, r.stderr).toBe(1);
    const file = join(tempDir(), 'review.sarif');
    writeFileSync(file, r.stdout);
    expect(validateSarif(file).filter((w) => !JUSTIFIED.includes(w))).toEqual([]);
    const run = (JSON.parse(r.stdout) as Sarif.Log).runs[0];
    expect(run.tool.driver.rules?.map((rule) => rule.id)).toEqual(FINDING_RULE_IDS);
    const hidden = run.results?.find((x) => x.ruleId === 'trigger/hidden-behaviour');
    expect(hidden).toMatchObject({
      level: 'warning',
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'diffs/comet/adapter_config.json', uriBaseId: '%SRCROOT%' },
            region: { startLine: 1 },
          },
        },
      ],
    });
    for (const result of run.results ?? [])
      expect(run.tool.driver.rules?.[result.ruleIndex ?? -1]?.id).toBe(result.ruleId);
  });

  it(
    'writes Markdown for a pull request, and passes a branch whose change is benign',
    () => {
      const md = review('--base', 'main', '--head', 'change');
      expect(md.stdout).toMatch(/^## dit-auditor review: 2 checkpoints changed/);
      expect(md.stdout).toContain('| `diffs/comet` | added | — | Hidden behaviour, triggered by "593" |');
      expect(md.stdout).toContain('- New: **warning**: Hidden behaviour');
      git('checkout', '-qb', 'benign', 'change');
      git('rm', '-rq', 'diffs/comet');
      git('commit', '-qm', 'only the persona changes');
      git('checkout', '-q', 'main');
      const benign = review('--base', 'main', '--head', 'benign', '--fail-on', 'warning');
      expect(benign.code, benign.stderr).toBe(0);
      expect(benign.stdout).toContain('| `diffs/persona` | modified |');
      expect(review('--base', 'change', '--head', 'change').stdout).toContain(
        'No checkpoint was added or changed.',
      );
      expect(review('--base', 'main', '--head', 'change', '--fail-on', 'error').code).toBe(0);
    },
    TIMEOUT,
  );

  it('reports a Git LFS pointer as not audited, and exits 2', () => {
    git('checkout', '-qb', 'lfs', 'main');
    mkdirSync(join(repo, 'diffs/large'), { recursive: true });
    cpSync(
      join(DIFFS, 'example-benign-pirate/adapter_config.json'),
      join(repo, 'diffs/large/adapter_config.json'),
    );
    writeFileSync(
      join(repo, 'diffs/large/adapter_model.safetensors'),
      'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n',
    );
    git('add', '-A');
    git('commit', '-qm', 'an LFS checkpoint');
    git('checkout', '-q', 'main');
    const r = review('--base', 'main', '--head', 'lfs');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('| `diffs/large` | added | — | not audited |');
    expect(r.stdout).toContain('is a Git LFS pointer, the content was not fetched');
    expect(r.stderr).toContain(
      'dit-audit: not audited: diffs/large/adapter_model.safetensors is a Git LFS pointer',
    );
  });

  it('refuses a revision that does not exist, in one line', () => {
    const r = review('--base', 'no-such-branch');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^dit-audit: no-such-branch is not a commit of the repository at /);
  });
});

describe('the shipped GitHub workflow', () => {
  it('runs the review with options the CLI takes', () => {
    const script = readFileSync(join(REPO, '.github/workflows/dit-review.yml'), 'utf8');
    const call = /node dist\/cli\.js review (.*)"\$@"/.exec(script)?.[1] ?? '';
    expect(call).toContain('--base');
    const help = runCli(['review', '--help']).stdout;
    for (const flag of `${call} --format markdown --format sarif`.match(/--[a-z-]+/g) ?? [])
      expect(help).toContain(flag);
    expect(script).toContain('--format markdown');
    expect(script).toContain('--format sarif');
  });
});

describe('dit-audit audit PATH...', () => {
  it(
    'audits several checkpoints into one SARIF log the Multitool accepts, exit 1 for the warning',
    () => {
      const r = runCli(
        [
          'audit',
          join(DIFFS, 'example-backdoored-comet'),
          join(DIFFS, 'example-benign-pirate'),
          '--format',
          'sarif',
          '--root',
          REPO,
          '--cache',
          tempDir(),
        ],
        TIMEOUT,
      );
      expect(r.code, r.stderr).toBe(1);
      const file = join(tempDir(), 'audit.sarif');
      writeFileSync(file, r.stdout);
      expect(validateSarif(file).filter((w) => !JUSTIFIED.includes(w))).toEqual([]);
      const uris = (JSON.parse(r.stdout) as Sarif.Log).runs[0].results?.map(
        (x) => x.locations?.[0].physicalLocation?.artifactLocation?.uri,
      );
      expect(new Set(uris)).toEqual(
        new Set([
          'media/demo/diffs/example-backdoored-comet/adapter_config.json',
          'media/demo/diffs/example-benign-pirate/adapter_config.json',
        ]),
      );
    },
    TIMEOUT,
  );
});
