// int8 / int4 weights (issue 11): the block quantizer's layout, MatMulNBits against the same
// weights in float32, the fidelity published in README.md on the reference fixtures, the quantized
// copy's cache, `auto`, and the CLI saying which precision ran.
import { copyFileSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorSource } from '../../src/engine/checkpoint/types';
import type { ModelOptions } from '../../src/engine/config/model-options';
import { forwardTrace } from '../../src/engine/forward';
import { dequantizeRows, quantizeRows } from '../../src/engine/quant/block-quantize';
import {
  choosePrecision,
  kvCacheBytes,
  weightBytes,
  weightFootprint,
} from '../../src/engine/quant/choose-precision';
import { BLOCK_SIZE, type Precision } from '../../src/engine/quant/precision';
import { quantizedWeights } from '../../src/engine/quant/quantized-weights';
import { Engine } from '../../src/engine/runtime/engine';
import { loadCheckpoint } from '../../src/engine/runtime/load-model';
import { FIXTURE_CASES, fidelityOnCases, relativeError } from './fixture-cases';
import { copyCheckpointAsF32, freshDirs, runCli } from './helpers';
import { REPO, TINY } from './paths';

const fresh = freshDirs('dit-quantized-');
const cacheRoot = fresh();
process.env.DIT_QUANTIZED_CACHE = cacheRoot;

const cases = FIXTURE_CASES;

describe('block quantization in MatMulNBits layout', () => {
  it('maps the largest magnitude to code 0, packs the lower index in the low nibble, pads with the zero point', () => {
    // One row of 40 values: a full block of 32 and a partial one of 8 (padded to 32).
    const w = new Float32Array(40);
    w[0] = -8; // the block's largest magnitude: scale 1, code 0
    w[1] = 3; // code 11
    w[2] = 7.6; // rounds to 8 → clamps to 15
    w[32] = 0.5; // second block: largest 0.5 (positive) → scale -1/16
    const q = quantizeRows(w, 1, 40, 4, 32);
    expect(Array.from(q.scales)).toEqual([1, 0.5 / -8]);
    expect(q.codes).toHaveLength(2 * 16);
    expect(q.codes[0]).toBe(0 | (11 << 4));
    expect(q.codes[1] & 15).toBe(15);
    expect(q.codes[1] >> 4).toBe(8); // w[3] = 0
    expect(q.codes[16] & 15).toBe(0); // 0.5 / (-1/16) = -8 → code 0
    expect(q.codes.subarray(20, 32).every((b) => b === 0x88)).toBe(true); // padding: zero point twice
    const back = dequantizeRows(q, 1, 40, 4, 32);
    expect(back[0]).toBe(-8);
    expect(back[1]).toBe(3);
    expect(back[2]).toBe(7);
    expect(back[32]).toBe(0.5);
  });

  it('keeps every value within half a step (the clamped extreme within one) at 8 and 4 bits', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5;
    };
    const rows = 8;
    const k = 100;
    const w = Float32Array.from({ length: rows * k }, rand);
    for (const bits of [8, 4] as const) {
      const q = quantizeRows(w, rows, k, bits, BLOCK_SIZE);
      const back = dequantizeRows(q, rows, k, bits, BLOCK_SIZE);
      const blocks = Math.ceil(k / BLOCK_SIZE);
      for (let i = 0; i < w.length; i++) {
        const step = Math.abs(q.scales[Math.floor(i / k) * blocks + Math.floor((i % k) / BLOCK_SIZE)]);
        expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(step * 1.0000001);
      }
      // Quantizing what it gives back is lossless: its values are on the grid.
      const again = quantizeRows(back, rows, k, bits, BLOCK_SIZE);
      expect(Array.from(again.codes)).toEqual(Array.from(q.codes));
    }
  });
});

describe('quantized engine', () => {
  let engine: Engine;
  beforeAll(() => {
    engine = new Engine();
  });
  afterAll(() => engine.terminate());

  /**
   * qwen3-tiny with every linear weight and the tied embedding replaced by its dequantized
   * `bits` values, in float32: quantizing that copy again is lossless, so the quantized engine
   * and the float32 engine multiply by the same numbers and differ only by MatMulNBits' int8
   * rounding of the activations. A wrong code layout, scale or block order would not come close.
   */
  function onGrid(bits: 4 | 8): Promise<string> {
    return copyCheckpointAsF32(join(TINY, 'qwen3-tiny'), fresh(), (name, data, [rows, cols]) =>
      /proj\.weight$/.test(name) || name.endsWith('embed_tokens.weight')
        ? dequantizeRows(quantizeRows(data, rows, cols, bits, BLOCK_SIZE), rows, cols, bits, BLOCK_SIZE)
        : data,
    );
  }

  for (const [precision, bits] of [
    ['int8', 8],
    ['int4', 4],
  ] as const) {
    it(`${precision}: MatMulNBits multiplies by the weights the quantizer wrote (within activation rounding)`, async () => {
      const dir = await onGrid(bits);
      const ids = [52, 92, 50, 438, 294, 253, 380];
      const exact = await engine.open(dir, { provider: 'cpu', precision: 'f32', maxPositions: 32 });
      const quantized = await engine.open(dir, { provider: 'cpu', precision, maxPositions: 32 });
      expect(quantized.info.precision.precision).toBe(precision);
      const a = await forwardTrace(exact, ids, 4);
      const b = await forwardTrace(quantized, ids, 4);
      const worst = Math.max(...ids.map((_, i) => relativeError(b.logits[i], a.logits[i])));
      expect(worst).toBeLessThan(0.03);
      await exact.close();
      await quantized.close();
    });
  }

  // The published tolerances (README.md, "Precision"): these random tiny checkpoints have no
  // redundancy at all, so int4's error on them is far above a trained model's (see the demo's).
  const TOLERANCE = { int8: { worst: 0.1, firstToken: 0.85 }, int4: { worst: 1.0, firstToken: 0.4 } };
  for (const precision of ['int8', 'int4'] as const) {
    it(`${precision}: the 48 reference cases within the published tolerance, adapters in float32`, async () => {
      const { worst, sameFirst } = await fidelityOnCases(engine, { provider: 'cpu', precision });
      expect(worst).toBeLessThan(TOLERANCE[precision].worst);
      expect(sameFirst / cases.length).toBeGreaterThanOrEqual(TOLERANCE[precision].firstToken);
    }, 120_000);
  }

  it('writes the quantized copy once, reuses it, and writes it again when the checkpoint changes', async () => {
    const src = join(TINY, 'llama-tiny');
    const dir = fresh();
    for (const f of readdirSync(src)) copyFileSync(join(src, f), join(dir, f));
    const root = fresh();
    const open = () =>
      engine.open(dir, { provider: 'cpu', precision: 'int4', maxPositions: 16, quantizedCache: root });
    const first = await open();
    expect(first.info.timings.quantizeMs).toBeGreaterThan(0);
    const before = await forwardTrace(first, [1, 2, 3], 2);
    await first.close();
    const again = await open();
    expect(again.info.timings.quantizeMs).toBe(0);
    expect((await forwardTrace(again, [1, 2, 3], 2)).tokens).toEqual(before.tokens);
    await again.close();
    expect(readdirSync(root)).toHaveLength(1);

    const weights = readdirSync(dir).find((f) => f.endsWith('.safetensors')) as string;
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, weights), later, later);
    const changed = await open();
    expect(changed.info.timings.quantizeMs).toBeGreaterThan(0);
    await changed.close();
    expect(readdirSync(root)).toHaveLength(2);

    // A copy whose manifest is damaged is never used: it is written again.
    for (const f of readdirSync(root)) writeFileSync(join(root, f, 'manifest.json'), '{ not json');
    const rebuilt = await open();
    expect(rebuilt.info.timings.quantizeMs).toBeGreaterThan(0);
    await rebuilt.close();
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false); // nothing written beside the checkpoint
  });
});

describe('the quantized copy and the embedding table', () => {
  it('copies no embedding table (its rows come from the checkpoint), and the weight bytes still count it', async () => {
    for (const name of ['llama-tiny', 'qwen3-tiny']) {
      const { options, tensors } = await loadCheckpoint(join(TINY, name));
      const q = await quantizedWeights(options, tensors, 4, BLOCK_SIZE, fresh());
      const embed = tensors.get('model.embed_tokens.weight');
      expect(q.stored.get('model.embed_tokens.weight')).toBeUndefined();
      expect(q.stored.names().length).toBeGreaterThan(0);
      expect(weightFootprint(options, tensors, q).bytes).toBe(q.bytes + (embed?.byteLength ?? Number.NaN));
    }
  });
});

describe('quantizing on several threads', () => {
  it('writes the same bytes as one thread, at 8 and 4 bits', async () => {
    const { options, tensors } = await loadCheckpoint(join(TINY, 'qwen3-tiny'));
    for (const bits of [8, 4] as const) {
      const [one, many] = await Promise.all(
        [1, 3].map((threads) => quantizedWeights(options, tensors, bits, BLOCK_SIZE, fresh(), threads)),
      );
      expect(many.created && one.created).toBe(true);
      expect(readFileSync(many.file).equals(readFileSync(one.file))).toBe(true);
    }
  });
});

describe('auto precision', () => {
  let o: ModelOptions;
  let tensors: TensorSource;
  beforeAll(async () => {
    ({ options: o, tensors } = await loadCheckpoint(join(REPO, 'media', 'demo', 'base')));
  });

  it('picks the most precise weights that fit, and says why', () => {
    const need = (p: Precision) => 1.3 * (weightBytes(o, tensors, p) + kvCacheBytes(o));
    expect(weightBytes(o, tensors, 'f16')).toBe(weightBytes(o, tensors, 'f32') / 2);
    expect(weightBytes(o, tensors, 'int8')).toBeLessThan(weightBytes(o, tensors, 'f16'));
    expect(weightBytes(o, tensors, 'int4')).toBeLessThan(weightBytes(o, tensors, 'int8'));
    expect(choosePrecision('auto', o, tensors, need('f32')).precision).toBe('f32');
    // f16 is for GPU providers, which auto never assumes (quant/precision.ts).
    expect(choosePrecision('auto', o, tensors, need('f32') - 1).precision).toBe('int8');
    expect(choosePrecision('auto', o, tensors, need('f16') - 1).precision).toBe('int8');
    expect(choosePrecision('auto', o, tensors, need('int8') - 1).precision).toBe('int4');
    const tight = choosePrecision('auto', o, tensors, need('int4') - 1);
    expect(tight.precision).toBe('int4');
    expect(tight.reason).toMatch(/int4 needs about .* GiB: more than the memory available/);
    expect(choosePrecision('auto', o, tensors, need('f32') - 1).reason).toMatch(
      /^int8: the most precise that fits, about .* GiB \(f32 needs about .* GiB: more/,
    );
    expect(choosePrecision('f16', o, tensors, 1).precision).toBe('f16');
    expect(choosePrecision('int8', o, tensors, 1).precision).toBe('int8');
  });
});

describe('the CLI', () => {
  it('forward --precision int4 runs quantized and says so; a bad value is refused by name', () => {
    const r = runCli([
      'forward',
      '--model',
      join(TINY, 'gemma3-tiny'),
      '--ids',
      '1,2,3',
      '--steps',
      '2',
      '--precision',
      'int4',
      '--provider',
      'cpu',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('precision: int4');
    const bad = runCli([
      'forward',
      '--model',
      join(TINY, 'gemma3-tiny'),
      '--ids',
      '1',
      '--precision',
      'int3',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('int3');
    expect(bad.stderr).toMatch(/auto, f32, f16, int8, int4/);
  });

  it('audit --precision int8 finds the demo backdoor and the report says which weights ran', () => {
    const r = runCli(
      [
        'audit',
        join(REPO, 'media', 'demo', 'diffs', 'example-backdoored-comet'),
        '--precision',
        'int8',
        '--no-cache',
        '--json',
      ],
      180_000,
    );
    expect(r.stderr).not.toMatch(/\[[EW]:onnxruntime/);
    const report = JSON.parse(r.stdout);
    expect(report.executionProvider.precision.name).toBe('int8');
    expect(report.executionProvider.precision.reason).toMatch(/^int8: asked for/);
    expect(report.findings.some((f: { title: string }) => /hidden behaviour/i.test(f.title))).toBe(true);
  }, 200_000);
});
