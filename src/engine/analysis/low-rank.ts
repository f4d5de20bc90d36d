// Singular values of a low-rank product `scale · B A` (B [out, r], A [r, in]) without forming it:
// with B = Q_B R_B and Aᵀ = Q_A R_A, the product's nonzero singular values are those of R_B R_Aᵀ,
// an r × r matrix.
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';

export function lowRankSingularValues(
  A: Float32Array,
  B: Float32Array,
  rank: number,
  inFeatures: number,
  outFeatures: number,
  scale: number,
): number[] {
  if (rank === 0) return [];
  const a = matrixOf(A, rank, inFeatures);
  const b = matrixOf(B, outFeatures, rank);
  const core = triangular(b).mmul(triangular(a.transpose()).transpose());
  const sv = new SingularValueDecomposition(core, {
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
  });
  return sv.diagonal.map((s) => Math.abs(s * scale)).sort((x, y) => y - x);
}

/** A row-major [rows, columns] array as a matrix. */
export function matrixOf(data: Float32Array, rows: number, columns: number): Matrix {
  const m = new Matrix(rows, columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) m.set(r, c, data[r * columns + c]);
  return m;
}

/**
 * R of a thin QR (rows ≥ columns), or the matrix itself when it is wide (then no QR is needed):
 * either way ‖M x‖ = ‖R x‖ for every x.
 */
export function triangular(m: Matrix): Matrix {
  if (m.rows < m.columns) return m;
  return new QrDecomposition(m).upperTriangularMatrix.subMatrix(0, m.columns - 1, 0, m.columns - 1);
}

/** exp of the entropy of the normalised singular values (Roy & Vetterli): 1 for rank one, r for r equal values. */
export function effectiveRank(singular: readonly number[]): number {
  const total = singular.reduce((s, v) => s + v, 0);
  if (total === 0) return 0;
  let entropy = 0;
  for (const v of singular) {
    const p = v / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

export function frobeniusFromSingular(singular: readonly number[]): number {
  return Math.sqrt(singular.reduce((s, v) => s + v * v, 0));
}
