// The Hugging Face names of a decoder's tensors: the one place they are spelled. `prefix` is where
// the decoder sits in the checkpoint (`model.`; `model.language_model.` in a multimodal one).
import type { LinearModule } from './types';

export type LayerNormName =
  | 'input_layernorm'
  | 'post_attention_layernorm'
  | 'pre_feedforward_layernorm'
  | 'post_feedforward_layernorm';

export interface TensorNames {
  readonly embed: string;
  readonly finalNorm: string;
  /** The untied LM head (a tied one is `embed`). */
  readonly lmHead: string;
  layerNorm(layer: number, name: LayerNormName): string;
  /** Per-head RMSNorm of queries or keys. */
  headNorm(layer: number, name: 'q_norm' | 'k_norm'): string;
  linear(layer: number, module: LinearModule): { readonly weight: string; readonly bias: string };
}

const MLP_MODULES: ReadonlySet<LinearModule> = new Set(['gate_proj', 'up_proj', 'down_proj']);

export function tensorNames(prefix: string): TensorNames {
  const layer = (i: number) => `${prefix}layers.${i}`;
  return {
    embed: `${prefix}embed_tokens.weight`,
    finalNorm: `${prefix}norm.weight`,
    lmHead: 'lm_head.weight',
    layerNorm: (i, name) => `${layer(i)}.${name}.weight`,
    headNorm: (i, name) => `${layer(i)}.self_attn.${name}.weight`,
    linear: (i, module) => {
      const path = `${layer(i)}.${MLP_MODULES.has(module) ? 'mlp' : 'self_attn'}.${module}`;
      return { weight: `${path}.weight`, bias: `${path}.bias` };
    },
  };
}
