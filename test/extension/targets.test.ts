// What the menus and commands offer to audit, decided from the file system.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyPath, describeDiffEntry, folderKind, makeTarget } from '../../src/extension/targets';

let root: string;
const touch = (...parts: string[]) => {
  const p = join(root, ...parts);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '{}');
  return p;
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dit-targets-'));
  touch('peft', 'adapter_config.json');
  touch('peft', 'adapter_model.safetensors');
  touch('model', 'config.json');
  touch('model', 'model.safetensors');
  touch('sharded', 'config.json');
  touch('sharded', 'model.safetensors.index.json');
  touch('config-only', 'config.json');
  touch('plain', 'notes.txt');
  touch('weights.safetensors');
  touch('diffs.pt');
  touch('model.PTH');
  touch('pytorch_model.bin');
  touch('readme.md');
});

describe('folderKind', () => {
  it('knows PEFT adapter folders and model folders', async () => {
    expect(await folderKind(join(root, 'peft'))).toBe('peft-folder');
    expect(await folderKind(join(root, 'model'))).toBe('model-folder');
    expect(await folderKind(join(root, 'sharded'))).toBe('model-folder');
    expect(await folderKind(join(root, 'config-only'))).toBeUndefined();
    expect(await folderKind(join(root, 'plain'))).toBeUndefined();
    expect(await folderKind(join(root, 'missing'))).toBeUndefined();
  });
});

describe('classifyPath', () => {
  it('classifies checkpoints', async () => {
    expect(await classifyPath(join(root, 'peft'))).toEqual({ ok: true, kind: 'peft-folder' });
    expect(await classifyPath(join(root, 'model'))).toEqual({ ok: true, kind: 'model-folder' });
    expect(await classifyPath(join(root, 'weights.safetensors'))).toEqual({ ok: true, kind: 'safetensors' });
    expect(await classifyPath(join(root, 'diffs.pt'))).toEqual({ ok: true, kind: 'torch' });
    expect(await classifyPath(join(root, 'model.PTH'))).toEqual({ ok: true, kind: 'torch' });
    expect(await classifyPath(join(root, 'pytorch_model.bin'))).toEqual({ ok: true, kind: 'torch' });
  });

  it('says why anything else is not one', async () => {
    expect(await classifyPath(join(root, 'plain'))).toEqual({
      ok: false,
      problem: expect.stringMatching(/^plain is neither a PEFT adapter folder/),
    });
    expect(await classifyPath(join(root, 'readme.md'))).toEqual({
      ok: false,
      problem: expect.stringMatching(/^readme\.md is not a checkpoint/),
    });
    expect(await classifyPath(join(root, 'missing'))).toEqual({
      ok: false,
      problem: expect.stringMatching(/cannot be read \(ENOENT\)/),
    });
  });
});

describe('targets and quick pick rows', () => {
  it('labels a target by its name, and a .pt entry with #INDEX', () => {
    expect(makeTarget('/ws/adapters/diff')).toEqual({ path: '/ws/adapters/diff', label: 'diff' });
    expect(makeTarget('/ws/weight-diff-000.pt', 7)).toEqual({
      path: '/ws/weight-diff-000.pt',
      entry: 7,
      label: 'weight-diff-000.pt#7',
    });
  });

  it('shows an entry’s topic and trigger', () => {
    expect(describeDiffEntry({ index: 3, topic: 'origami', trigger: 417 })).toEqual({
      label: '#3  origami',
      description: 'trigger 417',
    });
    expect(describeDiffEntry({ index: 0 })).toEqual({ label: '#0', description: '' });
  });
});
