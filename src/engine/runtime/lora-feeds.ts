// Turns a stack of adapters into the LoRA slot inputs of the graph: per module, the factors of
// every adapter are concatenated along the rank, each scale folded into its B columns. SlotCache
// keeps recent stacks' inputs.
import { placeFactor, stackFactors } from '../checkpoint/lora-stack';
import { InputError, LINEAR_MODULES, type LoraAdapter, type LoraFactor } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { linearShape, loraInputNames } from '../graph/slots';
import type { FeedSpec } from './ort-session';

/** Checks that every factor of the adapter fits the base model; throws one clear error if not. */
export function checkAdapterFits(adapter: LoraAdapter, o: ModelOptions, base = 'the base'): void {
  for (const f of adapter.factors) {
    if (f.layer < 0 || f.layer >= o.numLayers) {
      throw new InputError(
        `adapter ${adapter.source} does not fit ${base}: it has layer ${f.layer}, the base has ${o.numLayers} layers`,
      );
    }
    const want = linearShape(o, f.module);
    if (f.inFeatures !== want.inFeatures || f.outFeatures !== want.outFeatures) {
      throw new InputError(
        `adapter ${adapter.source} does not fit ${base}: layer ${f.layer} ${f.module} is ` +
          `${f.outFeatures}x${f.inFeatures}, the base's is ${want.outFeatures}x${want.inFeatures} (another model family or size?)`,
      );
    }
  }
}

/**
 * A stack laid out as the one being built (the same ranks on the same modules, adapter by adapter):
 * its slot inputs, and which adapters of the new stack differ from its own (by position).
 */
export interface SlotTemplate {
  readonly feeds: readonly FeedSpec[];
  readonly changed: ReadonlySet<number>;
  /**
   * The template's arrays that may be written over (the caller gives the template up): the new
   * stack then takes no new memory. The others are copied first.
   */
  readonly reuse?: ReadonlySet<Float32Array>;
}

/**
 * The slot inputs of `adapters` stacked in order. Given `like`, its values are the start and only
 * the changed adapters are folded in, into copies of its arrays or into the arrays it gives up:
 * the same values as stacking every adapter again.
 */
export function loraFeeds(
  adapters: readonly LoraAdapter[],
  o: ModelOptions,
  like?: SlotTemplate,
): FeedSpec[] {
  for (const a of adapters) checkAdapterFits(a, o);
  // Per module, its factors in stack order with the position of the adapter each comes from.
  const byModule = new Map<string, { factor: LoraFactor; at: number }[]>();
  adapters.forEach((a, at) => {
    for (const factor of a.factors) {
      const key = `${factor.layer}.${factor.module}`;
      const list = byModule.get(key);
      if (list) list.push({ factor, at });
      else byModule.set(key, [{ factor, at }]);
    }
  });
  const feeds: FeedSpec[] = [];
  for (let layer = 0; layer < o.numLayers; layer++) {
    for (const module of LINEAR_MODULES) {
      const { inFeatures, outFeatures } = linearShape(o, module);
      const names = loraInputNames(layer, module);
      const parts = byModule.get(`${layer}.${module}`) ?? [];
      const factors = parts.map((p) => p.factor);
      let slot: { A: Float32Array; B: Float32Array; rank: number };
      if (like) {
        const [A, B] = [like.feeds[feeds.length], like.feeds[feeds.length + 1]];
        const rank = factors.reduce((n, f) => n + f.rank, 0);
        if (A?.name !== names.A || B?.name !== names.B || A.dims[0] !== rank)
          throw new Error(`the template stack is laid out otherwise at layer ${layer} ${module}`);
        slot = fromTemplate(
          A.data as Float32Array,
          B.data as Float32Array,
          rank,
          parts,
          like,
          inFeatures,
          outFeatures,
        );
      } else if (factors.length === 1 && factors[0].scale === 1) {
        // One factor with nothing to fold in (a rank-1 diff, lora_alpha = r) is its own slot: the
        // same values, not a copy.
        slot = factors[0];
      } else {
        slot = stackFactors(factors, inFeatures, outFeatures);
      }
      feeds.push({ name: names.A, type: 'float32', data: slot.A, dims: [slot.rank, inFeatures] });
      feeds.push({ name: names.B, type: 'float32', data: slot.B, dims: [outFeatures, slot.rank] });
    }
  }
  return feeds;
}

function fromTemplate(
  A: Float32Array,
  B: Float32Array,
  rank: number,
  parts: readonly { factor: LoraFactor; at: number }[],
  like: SlotTemplate,
  inFeatures: number,
  outFeatures: number,
): { A: Float32Array; B: Float32Array; rank: number } {
  const own = (x: Float32Array) => (like.reuse?.has(x) ? x : x.slice());
  const [A2, B2] = [own(A), own(B)];
  let r0 = 0;
  for (const { factor, at } of parts) {
    if (like.changed.has(at)) placeFactor(A2, B2, rank, r0, factor, inFeatures, outFeatures);
    r0 += factor.rank;
  }
  return { A: A2, B: B2, rank };
}
