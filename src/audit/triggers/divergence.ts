// How far the diffed model's next-token distribution moves from the base's on the same rows:
// KL(diffed ‖ base) at the first answer position, where a trigger gate decides (DESIGN.md §7).

import type { CheckpointRef } from '../../engine/checkpoint/reference';
import type { ModelHandle } from '../../engine/runtime/engine';
import { throwIfCancelled } from '../errors';

/**
 * Work per engine request, in multiply-adds: a cancelled audit waits for one request at most
 * (here about 2 s on two CPU cores; a GPU is done sooner). The demo world fits 16k tokens in it,
 * a 0.6B model a few hundred.
 */
const MACS_PER_REQUEST = 2e11;
const MAX_TOKENS_PER_REQUEST = 16_384;

/** Multiply-adds per token of the decoder's linear layers and LM head. */
function macsPerToken(o: ModelHandle['info']['options']): number {
  const attention = o.hiddenSize * o.headDim * (2 * o.numHeads + 2 * o.numKvHeads);
  const mlp = 3 * o.hiddenSize * o.intermediateSize;
  return o.numLayers * (attention + mlp) + o.vocabSize * o.hiddenSize;
}

/** One side of the comparison: a warm session and the adapters that make it that model. */
export interface ModelSide {
  readonly model: ModelHandle;
  readonly adapters: readonly CheckpointRef[];
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
  const o = diffed.model.info.options;
  const vocab = o.vocabSize;
  const perRequest = Math.min(MAX_TOKENS_PER_REQUEST, Math.floor(MACS_PER_REQUEST / macsPerToken(o)));
  for (let at = 0; at < rows.length; ) {
    let end = at;
    for (let tokens = 0; end < rows.length && (end === at || tokens + rows[end].length <= perRequest); end++)
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
