// Mistral (transformers' MistralForCausalLM): Llama's decoder without biases. Its sliding_window
// (4096 when config.json has none; null turns it off) makes every layer attend to that many tokens,
// itself included, on the path Gemma3's sliding layers take.
import { optInt } from '../config/config-fields';
import type { Family } from './family';
import { llama, llamaOptions } from './llama';

export const mistral: Family = {
  ...llama,
  normalize: (c) => {
    const o = llamaOptions(c);
    const window = c.sliding_window === undefined ? 4096 : (optInt(c, 'sliding_window') ?? null);
    return {
      ...o,
      maxPositionEmbeddings: optInt(c, 'max_position_embeddings') ?? 4096 * 32,
      qkvBias: false,
      oBias: false,
      mlpBias: false,
      slidingWindow: window,
      layerKinds: o.layerKinds.map(() => (window === null ? 'full' : 'sliding')),
    };
  },
};
