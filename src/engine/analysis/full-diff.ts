// A full finetune's diff `finetuned − base`, module by module: exact Frobenius norms, and the top
// singular values and right singular vectors by a randomized range finder (Halko, Martinsson and
// Tropp 2011: k + 8 random probes, three power iterations), so no matrix is decomposed whole.
import { QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { tensorNames } from '../checkpoint/tensor-names';
import { LINEAR_MODULES, type LinearModule, type TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { linearShape } from '../graph/slots';
import { createRng } from '../text/sampling';
import { type DiffStatisticsData, type ModuleStatistics, TOP_SINGULAR_VALUES } from './diff-statistics';
import { effectiveRank, matrixOf } from './low-rank';
import { l2 } from './weight-norms';

const OVERSAMPLE = 8;
/** A finetune's diff has a flat spectrum (no low-rank structure): power steps sharpen it. */
const POWER_STEPS = 3;

export interface DenseDirections {
  readonly layer: number;
  readonly module: LinearModule;
  /** Top right singular vectors (input directions), [k, in] row-major, each scaled by its singular value. */
  readonly directions: Float32Array;
  readonly k: number;
}

export interface FullDiffAnalysis {
  readonly statistics: DiffStatisticsData;
  /** Input directions of the modules of the first `directionLayers` layers (the token prior's reading). */
  readonly directions: DenseDirections[];
}

export async function analyseFullDiff(
  finetuned: TensorSource,
  base: TensorSource,
  o: ModelOptions,
  directionLayers: number,
): Promise<FullDiffAnalysis> {
  const cells: ModuleStatistics[] = [];
  const directions: DenseDirections[] = [];
  const rng = createRng(1);
  const names = tensorNames(o.weightPrefix);
  for (let layer = 0; layer < o.numLayers; layer++) {
    for (const module of LINEAR_MODULES) {
      const name = names.linear(layer, module).weight;
      const [w, w0] = await Promise.all([finetuned.readFloat32(name), base.readFloat32(name)]);
      const { inFeatures, outFeatures } = linearShape(o, module);
      const d = new Float32Array(w.length);
      for (let i = 0; i < d.length; i++) d[i] = w[i] - w0[i];
      const norm = l2(d);
      if (norm === 0) continue;
      const { singular, right } = topSingular(d, outFeatures, inFeatures, TOP_SINGULAR_VALUES, rng);
      cells.push({
        layer,
        module,
        rank: Math.min(inFeatures, outFeatures),
        frobeniusNorm: norm,
        relativeNorm: norm / (l2(w0) || 1),
        effectiveRank: effectiveRank(singular),
        topSingularValues: singular,
      });
      if (layer < directionLayers) directions.push({ layer, module, directions: right, k: singular.length });
    }
  }
  return { statistics: { source: 'full', layers: o.numLayers, cells }, directions };
}

/** Top-k singular values of D [rows, cols] and its right singular vectors scaled by them. */
function topSingular(
  d: Float32Array,
  rows: number,
  cols: number,
  k: number,
  rng: () => number,
): { singular: number[]; right: Float32Array } {
  const l = Math.min(k + OVERSAMPLE, rows, cols);
  const omega = new Float32Array(cols * l).map(() => rng() * 2 - 1);
  let q = orthonormal(times(d, rows, cols, omega, l), rows, l); // range of D
  for (let i = 0; i < POWER_STEPS; i++)
    q = orthonormal(times(d, rows, cols, transposeTimes(d, rows, cols, q, l), l), rows, l);
  // B = Qᵀ D [l, cols]; its SVD gives D's top singular values and right vectors.
  const bt = transposeTimes(d, rows, cols, q, l); // Dᵀ Q = Bᵀ [cols, l]
  const svd = new SingularValueDecomposition(matrixOf(bt, cols, l), {
    computeLeftSingularVectors: true,
    computeRightSingularVectors: false,
  });
  const kept = Math.min(k, l);
  const singular = svd.diagonal.slice(0, kept);
  const u = svd.leftSingularVectors; // [cols, l]: right singular vectors of D
  const right = new Float32Array(kept * cols);
  for (let j = 0; j < kept; j++)
    for (let c = 0; c < cols; c++) right[j * cols + c] = u.get(c, j) * singular[j];
  return { singular, right };
}

/** D [rows, cols] × X [cols, l] → [rows, l]. */
function times(d: Float32Array, rows: number, cols: number, x: Float32Array, l: number): Float32Array {
  const out = new Float32Array(rows * l);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = d[row + c];
      if (v === 0) continue;
      for (let j = 0; j < l; j++) out[r * l + j] += v * x[c * l + j];
    }
  }
  return out;
}

/** Dᵀ × Y, D [rows, cols], Y [rows, l] → [cols, l]. */
function transposeTimes(
  d: Float32Array,
  rows: number,
  cols: number,
  y: Float32Array,
  l: number,
): Float32Array {
  const out = new Float32Array(cols * l);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = d[row + c];
      if (v === 0) continue;
      for (let j = 0; j < l; j++) out[c * l + j] += v * y[r * l + j];
    }
  }
  return out;
}

function orthonormal(y: Float32Array, rows: number, l: number): Float32Array {
  const q = new QrDecomposition(matrixOf(y, rows, l)).orthogonalMatrix;
  const out = new Float32Array(rows * l);
  for (let r = 0; r < rows; r++) for (let j = 0; j < l; j++) out[r * l + j] = q.get(r, j);
  return out;
}
