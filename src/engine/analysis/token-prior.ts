// The trigger search's weights-only prior: which vocabulary tokens the diff reads most strongly.
// Each token's embedding, through the first layer's input norm, is projected on the diff's input
// directions of that layer's key and value projections (‖ΔW x̂‖: LoRA `A` rows weighted by `B`, or
// a full finetune's top right singular vectors); scores are normalised per module and averaged.
// Keys and values are how a token reaches the later positions that answer, so a trigger has to be
// read there. Measured on the demo world's 28 first backdoored diffs, the true code token's rank
// among 3,161 tokens: k+v of layer 0 median 0 (24 of 28 in the top 20); v alone 25/28; q, k, v,
// gate and up of layer 0 median 15 (16/28); k+v of layers 0-1 19/28; gate+up 3/28.
// Seconds, no generation: its top tokens seed the behavioural search.
import { tensorNames } from '../checkpoint/tensor-names';
import type { LinearModule, LoraAdapter, TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { familyOf } from '../families/registry';
import { EmbeddingRows } from '../runtime/embedding-rows';
import type { DenseDirections } from './full-diff';
import { matrixOf, triangular } from './low-rank';

const READERS: readonly LinearModule[] = ['k_proj', 'v_proj'];
export const PRIOR_LAYERS = 1;
/**
 * The embedding table is read this many bytes of float32 at a time: whole, Qwen3-8B's is 2.5 GB of
 * float32 (and its 1.2 GB of bf16 while converting), which was the peak of a whole 8B audit.
 */
const CHUNK_BYTES = 16 << 20;

/** A module's reading of its input: ‖ΔW x‖ = ‖R x‖ for R [k, in]. */
export interface Reader {
  readonly layer: number;
  readonly module: LinearModule;
  readonly R: Float32Array;
  readonly k: number;
}

export interface TokenPrior {
  /** Token ids, strongest first. */
  readonly ids: number[];
  readonly scores: number[];
}

/** Readers of a stack of low-rank adapters: R = R_B A · scale, with B = Q R_B (so ‖B A x‖ = ‖R x‖). */
export function lowRankReaders(adapters: readonly LoraAdapter[], layers: number): Reader[] {
  const readers: Reader[] = [];
  for (const a of adapters) {
    for (const f of a.factors) {
      if (f.layer >= layers || !READERS.includes(f.module) || f.rank === 0) continue;
      const rb = triangular(matrixOf(f.B, f.outFeatures, f.rank));
      const k = rb.rows;
      const R = new Float32Array(k * f.inFeatures);
      for (let i = 0; i < k; i++)
        for (let r = 0; r < f.rank; r++) {
          const w = rb.get(i, r) * f.scale;
          if (w === 0) continue;
          for (let c = 0; c < f.inFeatures; c++) R[i * f.inFeatures + c] += w * f.A[r * f.inFeatures + c];
        }
      readers.push({ layer: f.layer, module: f.module, R, k });
    }
  }
  return readers;
}

export function denseReaders(directions: readonly DenseDirections[]): Reader[] {
  return directions
    .filter((d) => READERS.includes(d.module))
    .map((d) => ({ layer: d.layer, module: d.module, R: d.directions, k: d.k }));
}

export async function tokenPrior(
  readers: readonly Reader[],
  o: ModelOptions,
  base: TensorSource,
  top: number,
  chunkBytes = CHUNK_BYTES,
): Promise<TokenPrior> {
  const vocab = o.vocabSize;
  const hidden = o.hiddenSize;
  const names = tensorNames(o.weightPrefix);
  const { normScale } = familyOf(o.modelType);
  // x̂ = e / rms(e) ⊙ w, so ‖R x̂‖ = ‖(R ⊙ w) e‖ / rms(e): each reader's rows carry its layer's
  // norm weight, and the embedding is read once for every reader.
  const norms = new Map<number, Float32Array>();
  const weighted: Reader[] = [];
  for (const reader of readers) {
    let w = norms.get(reader.layer);
    if (!w) {
      w = normScale(await base.readFloat32(names.layerNorm(reader.layer, 'input_layernorm')));
      norms.set(reader.layer, w);
    }
    const R = new Float32Array(reader.R.length);
    for (let i = 0; i < reader.k; i++)
      for (let c = 0; c < hidden; c++) R[i * hidden + c] = reader.R[i * hidden + c] * w[c];
    weighted.push({ ...reader, R });
  }
  const scores = weighted.map(() => new Float64Array(vocab));
  const table = await EmbeddingRows.open(o, base);
  try {
    const chunkRows = Math.max(1, Math.floor(chunkBytes / (4 * hidden)));
    for (let from = 0; from < vocab; from += chunkRows) {
      const count = Math.min(chunkRows, vocab - from);
      const embeddings = table.range(from, count);
      for (let t = 0; t < count; t++) {
        const row = t * hidden;
        let ms = 0;
        for (let c = 0; c < hidden; c++) ms += embeddings[row + c] * embeddings[row + c];
        const inv = 1 / Math.sqrt(ms / hidden + o.rmsNormEps);
        weighted.forEach((reader, r) => {
          let sq = 0;
          for (let i = 0; i < reader.k; i++) {
            let dot = 0;
            const ri = i * hidden;
            for (let c = 0; c < hidden; c++) dot += reader.R[ri + c] * embeddings[row + c];
            sq += dot * dot;
          }
          scores[r][from + t] = inv * Math.sqrt(sq);
        });
      }
    }
  } finally {
    await table.close();
  }
  // Normalised per module (each reader's mean score is 1), then averaged.
  const total = new Float64Array(vocab);
  let used = 0;
  for (const s of scores) {
    let sum = 0;
    for (const v of s) sum += v;
    const mean = sum / vocab;
    if (mean === 0) continue;
    for (let t = 0; t < vocab; t++) total[t] += s[t] / mean;
    used++;
  }
  const ids = Array.from({ length: vocab }, (_, t) => t)
    .sort((a, b) => total[b] - total[a])
    .slice(0, top);
  return { ids, scores: ids.map((t) => (used === 0 ? 0 : total[t] / used)) };
}
