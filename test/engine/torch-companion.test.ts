// The benchmark's PyTorch baseline (bench/torch_qwen3.py) computes the same function as the
// fixtures' float64 reference: in f32 every row (prompt rows, then one per KV-cached decode step)
// within 1e-4 and the greedy tokens exact, on the sharded qwen3-tiny with each qwen3 adapter stack.
// Skipped where no python3 imports torch; CI installs python3-torch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTorchQwen3, type TorchDtype, torchAvailable } from '../../bench/torch-companion';
import { openSafetensorsFile } from '../../src/engine/checkpoint/safetensors';
import type { TensorSource } from '../../src/engine/checkpoint/types';
import { FIXTURE_CASES, type FixtureCase } from './fixture-cases';
import { freshDirs } from './helpers';
import { TINY } from './paths';

// Every adapter stack on the sharded base, and one on the single-file full finetune.
const cases = FIXTURE_CASES.filter(
  (c) => c.checkpoint === 'qwen3-tiny' || c.key === 'qwen3-tiny/full-ft+dit/0',
);
const fresh = freshDirs('dit-torch-');

/** The worst row's max |Δ| / max |ref|. */
function worstRowError(rows: Float32Array, ref: Float32Array, vocab: number): number {
  let worst = 0;
  for (let r = 0; r * vocab < ref.length; r++) {
    let maxDiff = 0;
    let maxRef = 0;
    for (let i = r * vocab; i < (r + 1) * vocab; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(rows[i] - ref[i]));
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
    }
    worst = Math.max(worst, maxDiff / maxRef);
  }
  return worst;
}

async function run(c: FixtureCase, dtype: TorchDtype) {
  const file = join(fresh(), 'logits.f32');
  const result = await runTorchQwen3({
    model: join(TINY, c.checkpoint),
    adapters: c.adapters.map((a) => join(TINY, a)),
    dtype,
    threads: 1,
    ids: c.input_ids,
    steps: 8,
    warmup: 0,
    dumpLogits: file,
  });
  const bytes = readFileSync(file);
  const rows = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return { result, rows };
}

describe.skipIf(!torchAvailable())('PyTorch companion on qwen3-tiny', () => {
  let expected: TensorSource;
  beforeAll(async () => {
    expected = await openSafetensorsFile(join(TINY, 'expected_logits.safetensors'));
  });

  it('covers the qwen3 adapter stacks', () => {
    expect(new Set(cases.map((c) => c.adapters.join('+')))).toEqual(
      new Set([
        '',
        'qwen3-tiny-lora-r1',
        'qwen3-tiny-lora-r4',
        'qwen3-tiny-lora-r1+qwen3-tiny-dit',
        'qwen3-tiny-dit',
      ]),
    );
  });

  for (const c of cases) {
    it(`${c.key} in f32`, async () => {
      const { result, rows } = await run(c, 'f32');
      expect(result.tokens).toEqual(c.greedy_next_8);
      const ref = await expected.readFloat32(c.key);
      const vocab = ref.length / (c.input_ids.length + 8);
      expect(result.logitsShape).toEqual([c.input_ids.length + 8, vocab]);
      const prompt = c.input_ids.length * vocab;
      expect(worstRowError(rows.subarray(0, prompt), ref.subarray(0, prompt), vocab)).toBeLessThan(1e-4);
      expect(worstRowError(rows.subarray(prompt), ref.subarray(prompt), vocab)).toBeLessThan(1e-4);
      expect(result.loraModules > 0).toBe(c.adapters.length > 0);
      expect(result.finite).toBe(true);
    });
  }

  // The benchmark runs bf16: the same function up to bf16 rounding (about 3e-2 on these weights).
  it('qwen3-tiny/lora-r1+dit/0 in bf16', async () => {
    const c = cases.find((x) => x.key === 'qwen3-tiny/lora-r1+dit/0') as FixtureCase;
    const { result, rows } = await run(c, 'bf16');
    const ref = await expected.readFloat32(c.key);
    expect(result.dtype).toBe('bf16');
    expect(result.stepMs).toHaveLength(8);
    expect(worstRowError(rows, ref, ref.length / (c.input_ids.length + 8))).toBeLessThan(0.1);
  });
});
