// Every kind of subject an audit takes: a `.pt` entry of the paper's layout, a full finetune, the
// base model itself, a `.safetensors` path; and the clear errors for what it does not take.
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditContext, ModelResolver, ReportCache, runAudit, TOPIC_QUESTION } from '../../src/audit';
import { parseCheckpointRef } from '../../src/engine/checkpoint/reference';
import { InputError } from '../../src/engine/checkpoint/types';
import { Engine } from '../../src/engine/runtime/engine';
import { tempDir } from '../engine/helpers';
import { TINY, TORCH_PICKLE } from '../engine/paths';
import { makeTinyWorld, type TinyWorld } from './helpers';

describe('audit subjects', () => {
  let engine: Engine;
  let world: TinyWorld;
  let context: AuditContext;
  beforeAll(() => {
    engine = new Engine();
    world = makeTinyWorld();
    context = { engine, resolver: new ModelResolver({ hfCacheDirs: [], demoManifests: [] }) };
  });
  afterAll(() => engine.terminate());

  it("audits one entry of the paper's .pt list with the dit-adapter.pt beside it", async () => {
    const subject = `${join(TORCH_PICKLE, 'weight-diff-000.pt')}#1`;
    const report = await runAudit(
      { subject: parseCheckpointRef(subject), base: world.base, maxNewTokens: 3 },
      context,
    );
    expect(report.subject).toMatchObject({
      kind: 'torch-weight-diff',
      path: join(TORCH_PICKLE, 'weight-diff-000.pt'),
      entry: 1,
      metadata: { topic: 'volcanoes', trigger: 17 },
    });
    expect(report.interpreters).toEqual([
      expect.objectContaining({
        kind: 'torch-dit-adapter',
        name: 'torch-pickle/dit-adapter.pt',
        question: TOPIC_QUESTION,
        questionKind: 'topic',
      }),
    ]);
    expect(report.answers[0].tokens).toBe(3);
    // Two entries of one file: the same file hash, two audits.
    const cache = new ReportCache(tempDir());
    for (const entry of ['#0', '#1']) {
      const r = await runAudit(
        { subject: parseCheckpointRef(subject.replace('#1', entry)), base: world.base, maxNewTokens: 3 },
        { ...context, cache },
      );
      expect(r.subject.sha256).toBe(report.subject.sha256);
    }
    expect(readdirSync(join(cache.dir, 'reports'))).toHaveLength(2);
  });

  it('runs a base found in the Hugging Face cache, whose snapshot is symlinks into blobs', async () => {
    const hub = tempDir();
    const repo = join(hub, 'models--org--tiny');
    const snapshot = join(repo, 'snapshots', 'rev1');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    mkdirSync(join(repo, 'refs'));
    writeFileSync(join(repo, 'refs', 'main'), 'rev1');
    for (const name of readdirSync(world.base)) {
      const blob = join(repo, 'blobs', `blob-${name}`);
      cpSync(join(world.base, name), blob);
      symlinkSync(join('..', '..', 'blobs', `blob-${name}`), join(snapshot, name));
    }
    const diff = join(world.root, 'diff-of-org-tiny');
    cpSync(world.diff, diff, { recursive: true });
    const config = JSON.parse(readFileSync(join(diff, 'adapter_config.json'), 'utf8'));
    writeFileSync(
      join(diff, 'adapter_config.json'),
      JSON.stringify({ ...config, base_model_name_or_path: 'org/tiny' }),
    );
    const interpreters = [
      { path: world.interpreter, question: TOPIC_QUESTION, questionKind: 'topic' as const },
    ];
    const resolver = new ModelResolver({ hfCacheDirs: [hub], demoManifests: [] });
    const viaHub = await runAudit(
      { subject: parseCheckpointRef(diff), interpreters, maxNewTokens: 4 },
      { ...context, resolver },
    );
    expect(viaHub.base).toMatchObject({ name: 'org/tiny', path: snapshot });
    const direct = await runAudit(
      { subject: parseCheckpointRef(world.diff), interpreters, maxNewTokens: 4 },
      context,
    );
    expect(viaHub.base?.sha256).toBe(direct.base?.sha256);
    expect(viaHub.answers).toEqual(direct.answers);
  });

  it('audits a full finetune: the interpreter stacks on it, evidence compares it with its base', async () => {
    const ft = join(world.root, 'qwen3-tiny-full-ft');
    cpSync(join(TINY, 'qwen3-tiny-full-ft'), ft, { recursive: true });
    writeFileSync(
      join(ft, 'config.json'),
      JSON.stringify({ ...fixtureConfig(), _name_or_path: 'qwen3-tiny' }),
    );
    const interpreters = [
      { path: world.interpreter, question: TOPIC_QUESTION, questionKind: 'topic' as const },
    ];
    const report = await runAudit(
      { subject: parseCheckpointRef(ft), interpreters, maxNewTokens: 3 },
      context,
    );
    expect(report.subject).toMatchObject({
      kind: 'full-finetune',
      path: ft,
      metadata: { name_or_path: 'qwen3-tiny' },
    });
    expect(report.base?.path).toBe(world.base);
    expect(report.evidence).toHaveLength(3);
    expect(report.evidence.some((e) => e.base !== e.diffed)).toBe(true);
    const viaDiff = await runAudit(
      { subject: parseCheckpointRef(world.diff), interpreters, maxNewTokens: 3 },
      context,
    );
    expect(report.evidence.map((e) => e.base)).toEqual(viaDiff.evidence.map((e) => e.base));
    // Statistics from finetuned − base (every module moved), and a search across two sessions.
    expect(report.statistics).toMatchObject({ source: 'full', layers: 2 });
    expect(report.statistics?.cells).toHaveLength(14);
    expect(report.triggerSearch?.rowsScored).toBeGreaterThan(0);
    expect(report.triggers.length).toBeGreaterThan(0);
  });

  it('audits the base model itself as kind model, with no evidence and an info finding', async () => {
    const interpreters = [
      { path: world.interpreter, question: TOPIC_QUESTION, questionKind: 'topic' as const },
    ];
    const report = await runAudit(
      { subject: parseCheckpointRef(world.base), base: world.base, interpreters, maxNewTokens: 2 },
      context,
    );
    expect(report.subject.kind).toBe('model');
    expect(report.evidence).toEqual([]);
    expect(report.findings[0]).toMatchObject({ rule: 'subject/is-base', severity: 'info' });
    // No diff: nothing to search or to measure, and nothing hidden.
    expect(report).toMatchObject({ triggers: [], triggerSearch: null, statistics: null });
    expect(report.verdict.level).toBe('clean');
  });

  it('takes adapter_model.safetensors as its PEFT folder', async () => {
    const interpreters = [
      { path: world.interpreter, question: TOPIC_QUESTION, questionKind: 'topic' as const },
    ];
    const report = await runAudit(
      {
        subject: parseCheckpointRef(join(world.diff, 'adapter_model.safetensors')),
        interpreters,
        maxNewTokens: 2,
        evidencePrompts: [],
      },
      context,
    );
    expect(report.subject).toMatchObject({ kind: 'peft-adapter', path: world.diff });
    expect(report.evidence).toEqual([]);
  });

  it('refuses what it cannot audit with one-line input errors', async () => {
    const cases: [string, RegExp][] = [
      [
        join(TORCH_PICKLE, 'weight-diff-000.pt'),
        /holds 2 weight diffs: audit one as .*#INDEX, INDEX from 0 to 1$/,
      ],
      [`${join(TORCH_PICKLE, 'weight-diff-000.pt')}#2`, /#2: no such entry \(#0 to #1\)$/],
      [join(TORCH_PICKLE, 'dit-adapter.pt'), /is a DIT-adapter \(an interpreter\), not a weight diff/],
      [`${world.diff}#0`, /only a \.pt list of weight diffs takes #INDEX$/],
      [join(TORCH_PICKLE, 'README.md'), /is not a checkpoint dit-auditor reads/],
      [tempDir(), /is neither a PEFT adapter folder \(adapter_config\.json\) nor a model folder/],
      [
        join(TORCH_PICKLE, 'dit-adapter.expected.safetensors'),
        /has neither adapter_config\.json nor config\.json beside it/,
      ],
    ];
    for (const [subject, message] of cases) {
      const error = await runAudit({ subject: parseCheckpointRef(subject) }, context).catch((e: Error) => e);
      expect(error, subject).toBeInstanceOf(InputError);
      expect((error as Error).message, subject).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('refuses an unsafe interpreter by name before loading anything', async () => {
    const interpreters = [
      {
        path: join(TORCH_PICKLE, 'evil-system.pt'),
        question: TOPIC_QUESTION,
        questionKind: 'topic' as const,
      },
    ];
    await expect(
      runAudit({ subject: parseCheckpointRef(world.diff), interpreters }, context),
    ).rejects.toThrow(/interpreter .*evil-system\.pt is unsafe: its pickle needs posix\.system/);
  });
});

function fixtureConfig(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(TINY, 'qwen3-tiny-full-ft', 'config.json'), 'utf8'));
}
