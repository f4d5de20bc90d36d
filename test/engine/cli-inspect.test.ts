// dit-audit inspect, spawned as a user runs it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers';
import { TINY, TORCH_PICKLE } from './paths';

function json(args: string[]): Record<string, unknown> {
  const r = runCli(['inspect', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe('dit-audit inspect', () => {
  it('lists a sharded model folder', () => {
    const out = json([join(TINY, 'qwen3-tiny')]);
    expect(out.kind).toBe('model');
    expect(out.modelType).toBe('qwen3');
    expect(out.files).toHaveLength(2);
    expect(out.tensors).toContainEqual({
      name: 'model.embed_tokens.weight',
      dtype: 'BF16',
      shape: [512, 64],
    });
  });

  it('lists a PEFT adapter with its config', () => {
    const out = json([join(TINY, 'llama-tiny-lora-r4')]);
    expect(out.kind).toBe('peft-adapter');
    expect((out.config as { r: number }).r).toBe(4);
  });

  it('lists a torch.save weight-diff list with its entries and globals', () => {
    const out = json([join(TORCH_PICKLE, 'weight-diff-000.pt')]);
    expect(out.kind).toBe('torch');
    expect(out.layout).toBe('weight-diffs');
    expect(out.diffEntries).toEqual([
      { index: 0, topic: 'basketball', trigger: 432 },
      { index: 1, topic: 'volcanoes', trigger: 17 },
    ]);
    expect(out.globals).toContain('torch._utils._rebuild_tensor_v2');
  });

  it.each(['evil-system.pt', 'evil-eval.pt', 'evil-legacy.bin'])(
    'refuses %s in one line, running nothing',
    (name) => {
      const marker = '/tmp/PWNED-by-pickle';
      const before = existsSync(marker);
      const r = runCli(['inspect', join(TORCH_PICKLE, name)]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/unsafe: its pickle needs (posix\.system|os\.system|_?_?builtins?_?_?\.eval)/);
      expect(existsSync(marker)).toBe(before);
    },
  );

  it('refuses a truncated safetensors file in one line', () => {
    const dir = tempDir();
    const bytes = readFileSync(join(TINY, 'llama-tiny/model.safetensors'));
    writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, 1000));
    const r = runCli(['inspect', join(dir, 'cut.safetensors')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cut\.safetensors/);
  });
});
