// Turns a stack of adapters into the LoRA slot inputs of the graph: per module, the factors of
// every adapter are concatenated along the rank, each scale folded into its B columns.
import { factorsByModule, stackFactors } from '../checkpoint/lora-stack';
import { InputError, LINEAR_MODULES, type LoraAdapter } from '../checkpoint/types';
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

export function loraFeeds(adapters: readonly LoraAdapter[], o: ModelOptions): FeedSpec[] {
  for (const a of adapters) checkAdapterFits(a, o);
  const byModule = factorsByModule(adapters);
  const feeds: FeedSpec[] = [];
  for (let layer = 0; layer < o.numLayers; layer++) {
    for (const module of LINEAR_MODULES) {
      const { inFeatures, outFeatures } = linearShape(o, module);
      const { A, B, rank } = stackFactors(byModule.get(`${layer}.${module}`) ?? [], inFeatures, outFeatures);
      const names = loraInputNames(layer, module);
      feeds.push({ name: names.A, type: 'float32', data: A, dims: [rank, inFeatures] });
      feeds.push({ name: names.B, type: 'float32', data: B, dims: [outFeatures, rank] });
    }
  }
  return feeds;
}
