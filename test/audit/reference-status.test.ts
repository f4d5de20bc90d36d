// From a named checkpoint to what an editor shows: resolving the name (relative to the file, to a
// workspace folder, `FILE#INDEX`, a repo id in the Hugging Face cache), what the report cache
// knows about its content, and the diagnostic and explorer badge each status maps to.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportCache } from '../../src/audit/cache';
import { FileHasher } from '../../src/audit/hashing';
import { checkpointStatus } from '../../src/audit/references/checkpoint-status';
import { checkpointBadgeOf, inlineWarningOf } from '../../src/audit/references/inline-warning';
import { type ResolveContext, resolveReference } from '../../src/audit/references/resolve';
import type { AuditReport } from '../../src/audit/report';
import { type Checkpoint, checkpointFiles } from '../../src/engine/checkpoint/classify';
import { tempDir } from '../engine/helpers';
import { TINY, TORCH_PICKLE } from '../engine/paths';
import { sampleReport } from '../extension/sample-report';

let root: string;
let context: ResolveContext;
let adapter: string;

beforeAll(() => {
  root = tempDir('dit-references-');
  adapter = join(root, 'ws', 'runs', 'lora');
  cpSync(join(TINY, 'qwen3-tiny-lora-r1'), adapter, { recursive: true });
  mkdirSync(join(root, 'ws', 'scripts'));
  cpSync(join(TORCH_PICKLE, 'weight-diff-000.pt'), join(root, 'ws', 'diffs.pt'));
  cpSync(join(TORCH_PICKLE, 'evil-system.pt'), join(root, 'ws', 'evil.pt'));
  const repo = join(root, 'hub', 'models--org--tiny');
  cpSync(join(TINY, 'qwen3-tiny'), join(repo, 'snapshots', 'rev1'), { recursive: true });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), 'rev1');
  context = {
    fileDir: join(root, 'ws', 'scripts'),
    roots: [join(root, 'ws')],
    hfCacheDirs: [join(root, 'hub')],
  };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('resolveReference', () => {
  it('finds a path relative to the file, then to a workspace folder', () => {
    expect(resolveReference('../runs/lora', context)).toMatchObject({ ref: { path: adapter }, from: 'path' });
    expect(resolveReference('runs/lora', context)).toMatchObject({
      ref: { path: adapter },
      checkpoint: { kind: 'peft-adapter', path: adapter },
    });
    expect(resolveReference(adapter, context)?.ref).toEqual({ path: adapter });
  });

  it("takes an adapter's weights file for its folder, and FILE#INDEX for one diff of a .pt list", () => {
    expect(resolveReference('runs/lora/adapter_model.safetensors', context)?.ref).toEqual({ path: adapter });
    expect(resolveReference('diffs.pt#1', context)?.ref).toEqual({
      path: join(root, 'ws', 'diffs.pt'),
      entry: 1,
    });
  });

  it('finds a repo id in the Hugging Face cache', () => {
    expect(resolveReference('org/tiny', context)).toMatchObject({
      ref: { path: join(root, 'hub', 'models--org--tiny', 'snapshots', 'rev1') },
      checkpoint: { kind: 'model-folder' },
      from: 'hf-cache',
    });
  });

  it('is no reference when nothing on this machine matches', () => {
    for (const text of ['org/elsewhere', 'runs/missing', 'scripts', 'lora', '../../../etc/passwd'])
      expect(resolveReference(text, context), text).toBeUndefined();
  });
});

describe('checkpointStatus', () => {
  const peft = (): Checkpoint => ({ kind: 'peft-adapter', path: adapter });
  const hashOf = async (checkpoint: Checkpoint) =>
    (await new FileHasher().hashFiles(checkpoint.path, await checkpointFiles(checkpoint))).sha256;
  const reportAbout = (sha256: string, createdAt: string, label: string): AuditReport =>
    sampleReport({
      createdAt,
      subject: { ...sampleReport().subject, path: adapter, sha256 },
      verdict: { level: 'described', label, summary: 's' },
    });

  it('is not audited until a report about the same content is cached, then the newest one', async () => {
    const cache = new ReportCache(tempDir('dit-references-cache-'));
    try {
      expect(await checkpointStatus({ path: adapter }, peft(), cache)).toEqual({
        kind: 'not-audited',
        identified: true,
      });
      const sha256 = await hashOf(peft());
      await cache.put('1'.repeat(64), reportAbout(sha256, '2026-01-01T00:00:00.000Z', 'older'));
      await cache.put('2'.repeat(64), reportAbout(sha256, '2026-02-01T00:00:00.000Z', 'newer'));
      await cache.put('3'.repeat(64), reportAbout('f'.repeat(64), '2026-03-01T00:00:00.000Z', 'other'));
      const status = await checkpointStatus({ path: adapter }, peft(), cache);
      expect(status.kind === 'audited' && status.report.verdict.label).toBe('newer');

      // A copy elsewhere is the same content: its report is found.
      const copy = join(root, 'copy-of-lora');
      cpSync(adapter, copy, { recursive: true });
      const copied = await checkpointStatus({ path: copy }, { kind: 'peft-adapter', path: copy }, cache);
      expect(copied.kind).toBe('audited');

      // Changed content is another checkpoint.
      writeFileSync(join(copy, 'adapter_config.json'), '{"peft_type": "LORA", "r": 2}');
      expect((await checkpointStatus({ path: copy }, { kind: 'peft-adapter', path: copy }, cache)).kind).toBe(
        'not-audited',
      );
    } finally {
      rmSync(cache.dir, { recursive: true, force: true });
    }
  });

  it('does not hash a large unknown checkpoint to find out', async () => {
    const cache = new ReportCache(tempDir('dit-references-cache-'));
    try {
      expect(await checkpointStatus({ path: adapter }, peft(), cache, 0)).toEqual({
        kind: 'not-audited',
        identified: false,
      });
    } finally {
      rmSync(cache.dir, { recursive: true, force: true });
    }
  });

  it('tells a DIT-adapter .pt (an interpreter) from a diff: nothing to audit, no badge', async () => {
    const cache = new ReportCache(tempDir('dit-references-cache-'));
    try {
      const dit = join(TORCH_PICKLE, 'dit-adapter.pt');
      const status = await checkpointStatus({ path: dit }, { kind: 'torch-file', path: dit }, cache);
      expect(status).toEqual({ kind: 'interpreter' });
      expect(checkpointBadgeOf(status)).toBeUndefined();
      expect(inlineWarningOf(status, 'dit-adapter.pt')).toBeUndefined();
    } finally {
      rmSync(cache.dir, { recursive: true, force: true });
    }
  });

  it('flags an unsafe pickle from its opcodes, with no report', async () => {
    const cache = new ReportCache(tempDir('dit-references-cache-'));
    try {
      const evil = join(root, 'ws', 'evil.pt');
      const status = await checkpointStatus({ path: evil }, { kind: 'torch-file', path: evil }, cache);
      expect(status).toMatchObject({ kind: 'unsafe' });
      expect(status.kind === 'unsafe' && status.globals.join()).toMatch(/system/);
    } finally {
      rmSync(cache.dir, { recursive: true, force: true });
    }
  });
});

describe('what an editor shows for each status', () => {
  const hidden = sampleReport({
    findings: [
      {
        rule: 'trigger/hidden-behaviour',
        severity: 'warning',
        title: 'Hidden behaviour: talks about comet when the prompt starts with "lighthouse"',
        detail: 'd',
      },
      { rule: 'dit/described-behaviour', severity: 'info', title: 'Interpreter describes', detail: 'd' },
    ],
    verdict: { level: 'warning', label: 'Hidden behaviour, triggered by "lighthouse"', summary: 's' },
  });

  it('a verified hidden behaviour is a warning that says what and when', () => {
    expect(inlineWarningOf({ kind: 'audited', report: hidden }, './diff')).toEqual({
      severity: 'warning',
      code: 'trigger/hidden-behaviour',
      message: './diff: hidden behaviour: talks about comet when the prompt starts with "lighthouse"',
    });
    expect(checkpointBadgeOf({ kind: 'audited', report: hidden })).toMatchObject({
      badge: '⚠',
      tone: 'warning',
    });
  });

  it('an unaudited checkpoint is a hint; an unsafe pickle an error', () => {
    expect(inlineWarningOf({ kind: 'not-audited', identified: true }, 'x')).toMatchObject({
      severity: 'hint',
      code: 'dit/not-audited',
    });
    expect(inlineWarningOf({ kind: 'unsafe', globals: ['posix.system'] }, 'e.pt')).toMatchObject({
      severity: 'error',
      code: 'pickle/unsafe-global',
      message: expect.stringContaining('posix.system'),
    });
    expect(checkpointBadgeOf({ kind: 'not-audited', identified: false })).toMatchObject({ badge: '?' });
  });

  it('a described behaviour is information, a clean report says nothing inline but gets a badge', () => {
    expect(inlineWarningOf({ kind: 'audited', report: sampleReport() }, 'd')).toMatchObject({
      severity: 'information',
      code: 'dit/audited',
    });
    const clean = sampleReport({ findings: [], verdict: { level: 'clean', label: 'Clean', summary: 's' } });
    expect(inlineWarningOf({ kind: 'audited', report: clean }, 'd')).toBeUndefined();
    expect(checkpointBadgeOf({ kind: 'audited', report: clean })).toMatchObject({
      badge: '✓',
      tone: 'clean',
    });
    expect(inlineWarningOf({ kind: 'unreadable', message: 'm' }, 'd')).toBeUndefined();
  });
});
