// The one classifier of checkpoints: what a path is, why it is not one, and which files make it up.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointFiles,
  classifyCheckpoint,
  folderKind,
  isTorchFile,
  requireModelFolder,
} from '../../src/engine/checkpoint/classify';
import { InputError } from '../../src/engine/checkpoint/types';
import { TINY } from './paths';

let root: string;
const touch = (...parts: string[]) => {
  const p = join(root, ...parts);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '{}');
  return p;
};
const problem = (path: string) => {
  try {
    classifyCheckpoint(path);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error(`${path} was classified`);
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dit-classify-'));
  touch('peft', 'adapter_config.json');
  touch('peft', 'adapter_model.safetensors');
  touch('model', 'config.json');
  touch('model', 'model.safetensors');
  touch('sharded', 'config.json');
  touch('sharded', 'model.safetensors.index.json');
  touch('config-only', 'config.json');
  touch('pickled-model', 'config.json');
  touch('pickled-model', 'pytorch_model.bin');
  touch('plain', 'notes.txt');
  touch('weights.safetensors');
  touch('diffs.pt');
  touch('model.PTH');
  touch('pytorch_model.bin');
  touch('readme.md');
});

describe('folderKind', () => {
  it('knows PEFT adapter folders and model folders, which need safetensors weights', () => {
    expect(folderKind(join(root, 'peft'))).toBe('peft-adapter');
    expect(folderKind(join(root, 'model'))).toBe('model-folder');
    expect(folderKind(join(root, 'sharded'))).toBe('model-folder');
    expect(folderKind(join(root, 'config-only'))).toBeUndefined();
    expect(folderKind(join(root, 'pickled-model'))).toBeUndefined();
    expect(folderKind(join(root, 'plain'))).toBeUndefined();
    expect(folderKind(join(root, 'missing'))).toBeUndefined();
    expect(folderKind(join(root, 'diffs.pt'))).toBeUndefined();
  });
});

describe('classifyCheckpoint', () => {
  it('classifies folders, torch files whatever the case of their extension, and weights by their folder', () => {
    expect(classifyCheckpoint(join(root, 'peft'))).toEqual({
      kind: 'peft-adapter',
      path: join(root, 'peft'),
    });
    expect(classifyCheckpoint(join(root, 'peft', 'adapter_model.safetensors'))).toEqual({
      kind: 'peft-adapter',
      path: join(root, 'peft'),
    });
    expect(classifyCheckpoint(join(root, 'model', 'model.safetensors'))).toEqual({
      kind: 'model-folder',
      path: join(root, 'model'),
    });
    for (const file of ['diffs.pt', 'model.PTH', 'pytorch_model.bin']) {
      expect(classifyCheckpoint(join(root, file))).toEqual({ kind: 'torch-file', path: join(root, file) });
      expect(isTorchFile(join(root, file))).toBe(true);
    }
    expect(isTorchFile(join(root, 'readme.md'))).toBe(false);
  });

  it('says why anything else is not one, in one line', () => {
    expect(problem(join(root, 'plain'))).toMatch(/plain is neither a PEFT adapter folder/);
    expect(problem(join(root, 'config-only'))).toMatch(
      /config-only is not a model folder: it has no safetensors weights$/,
    );
    expect(problem(join(root, 'pickled-model'))).toMatch(/pytorch_model\.bin is a pickle/);
    expect(problem(join(root, 'readme.md'))).toMatch(/^readme\.md is not a checkpoint dit-auditor reads/);
    expect(problem(join(root, 'weights.safetensors'))).toMatch(
      /has neither adapter_config\.json nor config\.json beside it/,
    );
    expect(problem(join(root, 'missing'))).toMatch(/missing does not exist$/);
    expect(() => requireModelFolder(join(root, 'plain'), 'base plain')).toThrow(
      /^base plain is not a model folder: it has no config\.json$/,
    );
  });
});

describe('checkpointFiles', () => {
  it('lists what a checkpoint is made of, in a fixed order', async () => {
    expect(await checkpointFiles({ kind: 'peft-adapter', path: join(root, 'peft') })).toEqual([
      join(root, 'peft', 'adapter_config.json'),
      join(root, 'peft', 'adapter_model.safetensors'),
    ]);
    expect(await checkpointFiles({ kind: 'torch-file', path: join(root, 'diffs.pt') })).toEqual([
      join(root, 'diffs.pt'),
    ]);
    const model = join(TINY, 'qwen3-tiny');
    expect(await checkpointFiles({ kind: 'model-folder', path: model })).toEqual(
      [
        'config.json',
        'model.safetensors.index.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
      ].map((f) => join(model, f)),
    );
  });

  it('refuses a PEFT folder without its weights', async () => {
    touch('peft-no-weights', 'adapter_config.json');
    await expect(checkpointFiles(classifyCheckpoint(join(root, 'peft-no-weights')))).rejects.toThrow(
      /has no adapter_model\.safetensors/,
    );
  });
});
