// How far the diffed model's next-token distribution moves from the base's on the same rows:
// KL(diffed ‖ base) at the first answer position, where a trigger gate decides (DESIGN.md §7).
import type { ModelHandle } from '../../engine/runtime/engine';

/** One side of the comparison: a warm session and the adapters that make it that model. */
export interface ModelSide {
  readonly model: ModelHandle;
  readonly adapters: readonly string[];
}

/** KL(p ‖ q) of two logits rows, in nats. */
export function klFromLogits(p: Float32Array, q: Float32Array): number {
  const lp = logSoftmax(p);
  const lq = logSoftmax(q);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) {
    const pi = Math.exp(lp[i]);
    if (pi > 0) kl += pi * (lp[i] - lq[i]);
  }
  return Math.max(0, kl);
}

function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const log = max + Math.log(sum);
  return Float64Array.from(x, (v) => v - log);
}

/**
 * KL(diffed ‖ base) after each row. Both sides read all rows in batches; when they share one
 * session (a LoRA diff on its base), only the adapter inputs change between them.
 */
export async function divergences(
  diffed: ModelSide,
  base: ModelSide,
  rows: readonly (readonly number[])[],
): Promise<number[]> {
  if (rows.length === 0) return [];
  const vocab = diffed.model.info.options.vocabSize;
  await diffed.model.setAdapters(diffed.adapters);
  const p = await diffed.model.lastLogits(rows);
  await base.model.setAdapters(base.adapters);
  const q = await base.model.lastLogits(rows);
  return rows.map((_, i) =>
    klFromLogits(p.subarray(i * vocab, (i + 1) * vocab), q.subarray(i * vocab, (i + 1) * vocab)),
  );
}
