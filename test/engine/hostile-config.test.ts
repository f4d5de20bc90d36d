// Regression: config.json sizes that aborted node (heap out of memory), hung, or threw an internal
// error (issue 12, points 2 and 5) are refused in one line at load, before anything is allocated.

import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/checkpoint/types';
import { loadCheckpoint } from '../../src/engine/runtime/load-model';
import { tempDir } from './helpers';
import { TINY } from './paths';

const LLAMA = join(TINY, 'llama-tiny');
const base = JSON.parse(readFileSync(join(LLAMA, 'config.json'), 'utf8'));
const root = tempDir('dit-hostile-config-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

function modelWith(config: Record<string, unknown>): string {
  const dir = join(root, String(count++));
  mkdirSync(dir);
  copyFileSync(join(LLAMA, 'model.safetensors'), join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const rope = (patch: Record<string, unknown>) => ({
  ...base,
  rope_scaling: { ...base.rope_scaling, ...patch },
});

const CASES: [string, Record<string, unknown>, RegExp][] = [
  [
    '2^31 layers',
    { ...base, num_hidden_layers: 2 ** 31 },
    /num_hidden_layers is 2147483648, larger than any/,
  ],
  ['10^9 layers', { ...base, num_hidden_layers: 1e9 }, /num_hidden_layers is 1000000000, larger than any/],
  ['2^53 layers', { ...base, num_hidden_layers: 2 ** 53 }, /num_hidden_layers is 9007199254740992/],
  [
    'more layers than the weights',
    { ...base, num_hidden_layers: 3 },
    /num_hidden_layers is 3, but the weights hold only 2/,
  ],
  ['fewer layers than the weights', { ...base, num_hidden_layers: 1 }, /weights hold more layers than that/],
  ['head_dim 10^9', { ...base, head_dim: 1e9 }, /head_dim is 1000000000, larger than any/],
  [
    'head_dim unlike the weights',
    { ...base, head_dim: 16 },
    /imply \[96, 48\] for model\.layers\.0\.self_attn\.q_proj\.weight, which is \[48, 48\]/,
  ],
  ['hidden_size 10^9', { ...base, hidden_size: 1e9 }, /hidden_size is 1000000000/],
  [
    'vocab_size unlike the embeddings',
    { ...base, vocab_size: 1 << 20 },
    /imply \[1048576, 48\] for model\.embed_tokens\.weight/,
  ],
  [
    'intermediate_size unlike the weights',
    { ...base, intermediate_size: 4096 },
    /gate_proj\.weight, which is \[96, 48\]/,
  ],
  ['no KV heads', { ...base, num_key_value_heads: 0 }, /not a multiple of 0 KV heads/],
  ['rope_scaling factor 0', rope({ factor: 0 }), /rope_scaling factor is 0, not a number above zero/],
  ['a negative rope_scaling factor', rope({ factor: -2 }), /rope_scaling factor is -2/],
  [
    'low_freq_factor equal to high',
    rope({ low_freq_factor: 4 }),
    /high_freq_factor 4 is not above low_freq_factor 4/,
  ],
  ['rope_theta 0', { ...base, rope_theta: 0 }, /rope_theta is 0, not a number above zero/],
  ['a linear factor 0', { ...base, rope_scaling: { type: 'linear', factor: 0 } }, /rope_scaling factor is 0/],
];

describe('hostile config.json sizes', () => {
  it.each(CASES)('refuses %s in one line, at once', async (_what, config, message) => {
    const started = performance.now();
    const error = await loadCheckpoint(modelWith(config)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('still loads the unchanged config', async () => {
    const loaded = await loadCheckpoint(modelWith(base));
    expect(loaded.options.numLayers).toBe(2);
  });
});
