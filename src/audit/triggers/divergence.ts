// How far the diffed model's next-token distribution moves from the base's on the same rows:
// KL(diffed ‖ base) at the first answer position, where a trigger gate decides (DESIGN.md §7).

import type { CheckpointRef } from '../../engine/checkpoint/reference';
import type { ModelHandle } from '../../engine/runtime/engine';
import { logSoftmax } from '../../engine/text/logprobs';
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

const UNLISTED_FLOOR = 1e-6;

/**
 * KL(p ‖ q) from each side's top log-probabilities (token id → log-probability), as a server
 * returns them: the KL of a coarser distribution. The tokens both sides list count each on their
 * own; the tokens only one side lists count as one outcome per side, where the other side's mass is
 * taken at most (its least listed probability per token, and no more than it leaves unlisted);
 * all other tokens are one more outcome, where q's mass is all it leaves unlisted. A gate that
 * moves the diffed model's first answer token off what the base expects shows in those outcomes.
 * An estimate that reads lower than the full KL, to rank rows as it does.
 */
export function klFromTopLogprobs(p: ReadonlyMap<number, number>, q: ReadonlyMap<number, number>): number {
  const floor = 1e-12;
  const side = (mine: ReadonlyMap<number, number>, other: ReadonlyMap<number, number>) => {
    let listed = 0;
    let least = 1;
    let only = 0;
    let onlyCount = 0;
    for (const [id, lp] of mine) {
      const pi = Math.exp(lp);
      listed += pi;
      least = Math.min(least, pi);
      if (!other.has(id)) {
        only += pi;
        onlyCount++;
      }
    }
    return { listed, least, only, onlyCount, unlisted: Math.max(0, 1 - listed) };
  };
  const P = side(p, q);
  const Q = side(q, p);
  let kl = 0;
  for (const [id, lp] of p) {
    const lq = q.get(id);
    if (lq !== undefined) kl += Math.exp(lp) * (lp - lq);
  }
  const term = (pm: number, qm: number) => (pm > floor ? pm * Math.log(pm / Math.max(floor, qm)) : 0);
  // What each side gives to the tokens only the other lists, at most.
  const qOnP = Math.min(P.onlyCount * Q.least, Q.unlisted);
  const pOnQ = Math.min(Q.onlyCount * P.least, P.unlisted);
  kl += term(P.only, qOnP) + term(pOnQ, Q.only);
  // q's unlisted mass at most, read no finer than a server's float32 log-probabilities sum.
  kl += term(P.unlisted - pOnQ, Math.max(Q.unlisted, UNLISTED_FLOOR));
  return Math.max(0, kl);
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
