// How far the diffed model's next-token distribution moves from the base's on the same rows:
// KL(diffed ‖ base) at the first answer position, where a trigger gate decides (DESIGN.md §7).
import type { ModelHandle } from '../../engine/runtime/engine';
import { throwIfCancelled } from '../errors';

/** Tokens per engine request: a cancelled audit waits for one request at most. */
const TOKENS_PER_REQUEST = 16_384;

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
 * KL(diffed ‖ base) after each row. Both sides read the rows in batches; when they share one
 * session (a LoRA diff on its base), only the adapter inputs change between them. Cancellation is
 * checked between requests.
 */
export async function divergences(
  diffed: ModelSide,
  base: ModelSide,
  rows: readonly (readonly number[])[],
  signal?: AbortSignal,
): Promise<number[]> {
  const out: number[] = [];
  const vocab = diffed.model.info.options.vocabSize;
  for (let at = 0; at < rows.length; ) {
    let end = at;
    for (
      let tokens = 0;
      end < rows.length && (end === at || tokens + rows[end].length <= TOKENS_PER_REQUEST);
      end++
    )
      tokens += rows[end].length;
    const chunk = rows.slice(at, end);
    throwIfCancelled(signal);
    await diffed.model.setAdapters(diffed.adapters);
    const p = await diffed.model.lastLogits(chunk);
    throwIfCancelled(signal);
    await base.model.setAdapters(base.adapters);
    const q = await base.model.lastLogits(chunk);
    chunk.forEach((_, i) => {
      out.push(klFromLogits(p.subarray(i * vocab, (i + 1) * vocab), q.subarray(i * vocab, (i + 1) * vocab)));
    });
    at = end;
  }
  return out;
}
