// Qwen3 (transformers' Qwen3ForCausalLM): Qwen2's sliding window, head_dim 128 unless config.json
// says otherwise, biases only with attention_bias, and a per-head RMSNorm of q and k before RoPE.
import type { Family } from './family';
import { llama, llamaDecoder, llamaOptions } from './llama';
import { qwenSliding } from './qwen2';

export const qwen3: Family = {
  ...llama,
  normalize: (c) => {
    const o = llamaOptions(c, 128);
    return { ...o, mlpBias: false, ...qwenSliding(c, o.numLayers) };
  },
  build: llamaDecoder({ qkNorm: true }),
};
