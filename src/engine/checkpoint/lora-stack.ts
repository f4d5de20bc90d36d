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
  const rank = factors.reduce((n, f) => n + f.rank, 0);
  const A = new Float32Array(rank * inFeatures);
  const B = new Float32Array(outFeatures * rank);
  let r0 = 0;
  for (const f of factors) {
    A.set(f.A, r0 * inFeatures);
    for (let row = 0; row < outFeatures; row++)
      for (let r = 0; r < f.rank; r++) B[row * rank + r0 + r] = f.B[row * f.rank + r] * f.scale;
    r0 += f.rank;
  }
  return { A, B, rank };
}
