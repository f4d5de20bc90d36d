// Several adapters on one module are one low-rank update: their A rows and B columns concatenated
// along the rank, each adapter's scale folded into its B columns. The graph's LoRA slot takes this
// form, and the weight statistics read it.
import type { LoraAdapter, LoraFactor } from './types';

/** The factors of a stack of adapters, by `"{layer}.{module}"`, in stack order. */
export function factorsByModule(adapters: readonly LoraAdapter[]): Map<string, LoraFactor[]> {
  const byModule = new Map<string, LoraFactor[]>();
  for (const a of adapters)
    for (const f of a.factors) {
      const key = `${f.layer}.${f.module}`;
      byModule.set(key, [...(byModule.get(key) ?? []), f]);
    }
  return byModule;
}

/** One module's factors as A [rank, in] and B [out, rank] with the scales folded into B. */
export function stackFactors(
  factors: readonly LoraFactor[],
  inFeatures: number,
  outFeatures: number,
): { A: Float32Array; B: Float32Array; rank: number } {
  let rank = 0;
  for (const f of factors) rank += f.rank;
  const A = new Float32Array(rank * inFeatures);
  const B = new Float32Array(outFeatures * rank);
  let r0 = 0;
  for (const f of factors) {
    placeFactor(A, B, rank, r0, f, inFeatures, outFeatures);
    r0 += f.rank;
  }
  return { A, B, rank };
}

/** Writes one factor into rows `r0 …` of a stacked A [rank, in] and columns `r0 …` of B [out, rank]. */
export function placeFactor(
  A: Float32Array,
  B: Float32Array,
  rank: number,
  r0: number,
  f: LoraFactor,
  inFeatures: number,
  outFeatures: number,
): void {
  A.set(f.A, r0 * inFeatures);
  foldColumns(B, rank, r0, f.B, f.rank, f.scale, outFeatures);
}

/**
 * Writes `scale * from` ([rows, width]) into columns `col0 … col0 + width` of `into` ([rows, stride]).
 * Plain locals in one small loop: over a stack's millions of values this is memory speed.
 */
function foldColumns(
  into: Float32Array,
  stride: number,
  col0: number,
  from: Float32Array,
  width: number,
  scale: number,
  rows: number,
): void {
  for (let row = 0, src = 0, dst = col0; row < rows; row++, src += width, dst += stride)
    for (let r = 0; r < width; r++) into[dst + r] = from[src + r] * scale;
}
