// Qwen2 (transformers' Qwen2ForCausalLM): Llama with biases on q, k and v (never on o or the MLP),
// and sliding-window attention from layer `max_window_layers` on when `use_sliding_window` is set.
import { bool, type Json, layerTypes, optInt } from '../config/config-fields';
import type { LayerKind, ModelOptions } from '../config/model-options';
import type { Family } from './family';
import { llama, llamaOptions } from './llama';

/** Qwen2's and Qwen3's sliding window: off unless `use_sliding_window`. */
export function qwenSliding(c: Json, numLayers: number): Pick<ModelOptions, 'slidingWindow' | 'layerKinds'> {
  const window = bool(c, 'use_sliding_window', false) ? (optInt(c, 'sliding_window') ?? null) : null;
  if (!window) return { slidingWindow: window, layerKinds: Array(numLayers).fill('full') };
  const maxWindowLayers = optInt(c, 'max_window_layers') ?? numLayers;
  const kinds =
    layerTypes(c, numLayers) ??
    Array.from({ length: numLayers }, (_, i): LayerKind => (i >= maxWindowLayers ? 'sliding' : 'full'));
  return { slidingWindow: window, layerKinds: kinds };
}

export const qwen2: Family = {
  ...llama,
  normalize: (c) => {
    const o = llamaOptions(c);
    return { ...o, qkvBias: true, oBias: false, mlpBias: false, ...qwenSliding(c, o.numLayers) };
  },
};
