// Weight statistics and the token prior, against values computed here independently: the dense
// ΔW = scale · B A (or finetuned − base) formed in plain loops, its Frobenius norm summed, its
// singular values by power iteration with deflation on ΔWᵀΔW, the base weight's norm read raw.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowRankReaders, PRIOR_LAYERS, tokenPrior } from '../../src/engine/analysis/token-prior';
import { openCheckpointTensors } from '../../src/engine/checkpoint/checkpoint-files';
import { loadAdapter } from '../../src/engine/checkpoint/load-adapter';
import { tensorNames } from '../../src/engine/checkpoint/tensor-names';
import type { LoraFactor } from '../../src/engine/checkpoint/types';
import { Engine } from '../../src/engine/runtime/engine';
import { loadCheckpoint } from '../../src/engine/runtime/load-model';
import { TINY } from './paths';

function dense(f: LoraFactor): Float64Array {
  const d = new Float64Array(f.outFeatures * f.inFeatures);
  for (let o = 0; o < f.outFeatures; o++)
    for (let i = 0; i < f.inFeatures; i++) {
      let s = 0;
      for (let r = 0; r < f.rank; r++) s += f.B[o * f.rank + r] * f.A[r * f.inFeatures + i];
      d[o * f.inFeatures + i] = f.scale * s;
    }
  return d;
}

/** Largest singular values of D [rows, cols] by power iteration on DᵀD with deflation. */
function singularValues(d: ArrayLike<number>, rows: number, cols: number, k: number): number[] {
  const g = new Float64Array(cols * cols);
  for (let a = 0; a < cols; a++)
    for (let b = 0; b < cols; b++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += d[r * cols + a] * d[r * cols + b];
      g[a * cols + b] = s;
    }
  const out: number[] = [];
  for (let j = 0; j < k; j++) {
    let v = Float64Array.from({ length: cols }, (_, i) => Math.sin(i + 1 + j));
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(cols);
      for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) w[a] += g[a * cols + b] * v[b];
      const n = Math.hypot(...w);
      if (n === 0) break;
      lambda = n;
      v = w.map((x) => x / n);
    }
    out.push(Math.sqrt(Math.max(0, lambda)));
    for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) g[a * cols + b] -= lambda * v[a] * v[b];
  }
  return out;
}

const norm = (xs: ArrayLike<number>) => Math.sqrt(Array.from(xs).reduce((s, x) => s + x * x, 0));

describe('diff statistics', () => {
  let engine: Engine;
  beforeAll(() => {
    engine = new Engine();
  });
  afterAll(() => engine.terminate());

  it.each(['qwen3-tiny-lora-r4', 'llama-tiny-lora-r1', 'gemma3-tiny-lora-r4'])(
    '%s: per-module norms, relative norms and singular values of scale · B A',
    async (name) => {
      const family = name.split('-lora')[0];
      const model = await engine.open(join(TINY, family), { provider: 'cpu' });
      const { statistics } = await model.analyseDiff([{ path: join(TINY, name) }], undefined, 5);
      const adapter = await loadAdapter({ path: join(TINY, name) });
      const base = await loadCheckpoint(join(TINY, family));
      expect(statistics.source).toBe('low-rank');
      expect(statistics.cells).toHaveLength(adapter.factors.length);
      for (const f of adapter.factors) {
        const cell = statistics.cells.find((c) => c.layer === f.layer && c.module === f.module);
        if (!cell) throw new Error(`no cell for ${f.layer} ${f.module}`);
        const d = dense(f);
        const w = await base.tensors.readFloat32(
          tensorNames(base.options.weightPrefix).linear(f.layer, f.module).weight,
        );
        const sv = singularValues(d, f.outFeatures, f.inFeatures, Math.min(f.rank, 4));
        expect(cell.rank).toBe(f.rank);
        expect(cell.frobeniusNorm).toBeCloseTo(norm(d), 5);
        expect(cell.relativeNorm).toBeCloseTo(norm(d) / norm(w), 5);
        cell.topSingularValues.forEach((s, i) => {
          expect(s).toBeCloseTo(sv[i], 4);
        });
        const p = sv.map((s) => s / sv.reduce((a, b) => a + b, 0));
        if (f.rank <= 4)
          expect(cell.effectiveRank).toBeCloseTo(
            Math.exp(-p.reduce((h, x) => h + (x > 0 ? x * Math.log(x) : 0), 0)),
            4,
          );
      }
      await model.close();
    },
  );

  it('a full finetune: exact Frobenius norms of finetuned − base, top singular values within 1 %', async () => {
    const model = await engine.open(join(TINY, 'qwen2-tiny-full-ft'), { provider: 'cpu' });
    const { statistics } = await model.analyseDiff([], join(TINY, 'qwen2-tiny'), 5);
    const ft = await openCheckpointTensors(join(TINY, 'qwen2-tiny-full-ft'));
    const base = await loadCheckpoint(join(TINY, 'qwen2-tiny'));
    expect(statistics.source).toBe('full');
    expect(statistics.cells.length).toBeGreaterThan(0);
    for (const cell of statistics.cells) {
      const name = tensorNames(base.options.weightPrefix).linear(cell.layer, cell.module).weight;
      const [a, b] = [await ft.readFloat32(name), await base.tensors.readFloat32(name)];
      const d = a.map((x, i) => x - b[i]);
      const ref = base.tensors.get(name)?.shape ?? [];
      expect(cell.frobeniusNorm).toBeCloseTo(norm(d), 4);
      const [top] = singularValues(d, ref[0], ref[1], 1);
      expect(Math.abs(cell.topSingularValues[0] - top) / top).toBeLessThan(0.01);
    }
    await model.close();
  });

  it('the token prior ranks the vocabulary by the diff’s reading of each embedding, and refuses a diff of another model', async () => {
    const model = await engine.open(join(TINY, 'qwen3-tiny'), { provider: 'cpu' });
    const { prior } = await model.analyseDiff([{ path: join(TINY, 'qwen3-tiny-lora-r1') }], undefined, 10);
    expect(prior.ids).toHaveLength(10);
    expect(new Set(prior.ids).size).toBe(10);
    expect([...prior.scores].sort((a, b) => b - a)).toEqual(prior.scores);
    await expect(
      model.analyseDiff([{ path: join(TINY, 'llama-tiny-lora-r1') }], undefined, 10),
    ).rejects.toThrow(/does not fit|no tensor|shape/);
    await model.close();
  });

  it('the token prior reads the embedding table in chunks and scores it as read whole', async () => {
    const { options, tensors } = await loadCheckpoint(join(TINY, 'qwen3-tiny'));
    const adapter = await loadAdapter({ path: join(TINY, 'qwen3-tiny-lora-r1') });
    const readers = lowRankReaders([adapter], PRIOR_LAYERS);
    const vocab = options.vocabSize;
    const whole = await tokenPrior(readers, options, tensors, vocab);
    // Three rows a chunk: the vocabulary is not a multiple of it, so the last chunk is shorter.
    expect(vocab % 3).not.toBe(0);
    const chunked = await tokenPrior(readers, options, tensors, vocab, 3 * 4 * options.hiddenSize);
    expect(chunked.ids).toEqual(whole.ids);
    expect(chunked.scores).toEqual(whole.scores);
    expect(whole.scores.some((x) => x > 0)).toBe(true);
  });
});
