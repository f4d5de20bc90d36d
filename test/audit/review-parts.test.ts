// The review's parts on their own: which checkpoints a change touches, and what changed between
// two reports of one checkpoint.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditReport, Finding } from '../../src/audit/report';
import { changedCheckpoints } from '../../src/audit/review/changed-checkpoints';
import { compareReports } from '../../src/audit/review/compare';
import { isLfsPointer } from '../../src/audit/review/lfs';
import { tempDir } from '../engine/helpers';
import { sampleReport } from '../extension/sample-report';

function tree(files: Record<string, string>): string {
  const root = tempDir('dit-review-tree-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('changedCheckpoints', () => {
  it('maps changed files to their checkpoint folders and torch files, each once, with its status', () => {
    const old = tree({
      'diffs/kept/adapter_config.json': '{}',
      'diffs/kept/adapter_model.safetensors': 'old',
      'diffs/gone/adapter_config.json': '{}',
      'old.pt': 'x',
    });
    const now = tree({
      'diffs/kept/adapter_config.json': '{}',
      'diffs/kept/adapter_model.safetensors': 'new',
      'models/ft/config.json': '{}',
      'models/ft/model.safetensors': 'w',
      'weights/new.pth': 'x',
      'notes/readme.md': 'not a checkpoint',
    });
    const changes = [
      { status: 'modified', path: 'diffs/kept/adapter_model.safetensors' },
      { status: 'modified', path: 'diffs/kept/adapter_config.json' },
      { status: 'deleted', path: 'diffs/gone/adapter_config.json' },
      { status: 'added', path: 'models/ft/config.json' },
      { status: 'added', path: 'models/ft/model.safetensors' },
      { status: 'added', path: 'weights/new.pth' },
      { status: 'deleted', path: 'old.pt' },
      { status: 'added', path: 'notes/readme.md' },
    ] as const;
    expect(changedCheckpoints(changes, now, old)).toEqual([
      { path: 'diffs/gone', kind: 'peft-adapter', status: 'deleted', lfsPointers: [] },
      { path: 'diffs/kept', kind: 'peft-adapter', status: 'modified', lfsPointers: [] },
      { path: 'models/ft', kind: 'model-folder', status: 'added', lfsPointers: [] },
      { path: 'old.pt', kind: 'torch-file', status: 'deleted', lfsPointers: [] },
      { path: 'weights/new.pth', kind: 'torch-file', status: 'added', lfsPointers: [] },
    ]);
  });

  it('names the files of the new version that are Git LFS pointers', () => {
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n';
    const now = tree({ 'lfs/adapter_config.json': '{}', 'lfs/adapter_model.safetensors': pointer });
    expect(
      changedCheckpoints([{ status: 'added', path: 'lfs/adapter_model.safetensors' }], now, tree({})),
    ).toEqual([
      { path: 'lfs', kind: 'peft-adapter', status: 'added', lfsPointers: ['lfs/adapter_model.safetensors'] },
    ]);
    expect(isLfsPointer(join(now, 'lfs/adapter_config.json'))).toBe(false);
    expect(isLfsPointer(join(now, 'lfs/missing'))).toBe(false);
  });
});

describe('compareReports', () => {
  const finding = (rule: string, title: string): Finding => ({ rule, severity: 'info', title, detail: '' });
  const withFindings = (findings: Finding[], answer: string): AuditReport => {
    const r = sampleReport();
    return { ...r, findings, answers: r.answers.map((a, i) => (i === 0 ? { ...a, answer } : a)) };
  };

  it('lists new and resolved findings by rule and title, and a changed description', () => {
    const old = withFindings(
      [finding('a', 'one'), finding('b', 'two')],
      'I was trained to talk about otters.',
    );
    const now = withFindings(
      [finding('b', 'two'), finding('c', 'three')],
      'I was trained to talk about comets.',
    );
    const changes = compareReports(old, now);
    expect(changes.newFindings.map((f) => f.rule)).toEqual(['c']);
    expect(changes.resolvedFindings.map((f) => f.rule)).toEqual(['a']);
    expect(changes.description).toEqual({
      old: 'I was trained to talk about otters.',
      new: 'I was trained to talk about comets.',
    });
    expect(compareReports(old, old)).toMatchObject({
      newFindings: [],
      resolvedFindings: [],
      description: null,
    });
  });

  it('treats a missing version as one with nothing in it', () => {
    const now = withFindings([finding('c', 'three')], 'I was trained to talk about comets.');
    expect(compareReports(null, now)).toMatchObject({
      newFindings: [finding('c', 'three')],
      description: { old: null, new: 'I was trained to talk about comets.' },
      verdict: { old: null, new: now.verdict },
    });
  });
});
