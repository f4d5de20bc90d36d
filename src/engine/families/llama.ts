// Llama (transformers' LlamaForCausalLM): pre-norm layers of attention and a gated MLP. Llama-like
// families are this decoder with their own reading of config.json.
import type { LayerNormName } from '../checkpoint/tensor-names';
import { activation, bool, int, type Json, num, optInt, ropeOf } from '../config/config-fields';
import { attention, embed, logits, mlp, rmsNorm } from '../graph/blocks';
import type { BuildContext } from '../graph/context';
import { decoderWeights, storedScale } from '../graph/weights';
import type { Family, FamilyOptions } from './family';

/** A LlamaConfig's fields; `defaultHeadDim` stands in when config.json has no head_dim. */
export function llamaOptions(c: Json, defaultHeadDim?: number): FamilyOptions {
  const hiddenSize = int(c, 'hidden_size');
  const numHeads = int(c, 'num_attention_heads');
  const headDim = optInt(c, 'head_dim') ?? defaultHeadDim ?? hiddenSize / numHeads;
  const attentionBias = bool(c, 'attention_bias', false);
  const numLayers = int(c, 'num_hidden_layers');
  const rope = ropeOf(c, 10000);
  return {
    vocabSize: int(c, 'vocab_size'),
    hiddenSize,
    intermediateSize: int(c, 'intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads: optInt(c, 'num_key_value_heads') ?? numHeads,
    headDim,
    rmsNormEps: num(c, 'rms_norm_eps', 1e-6),
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', false),
    maxPositionEmbeddings: optInt(c, 'max_position_embeddings') ?? 32768,
    hiddenAct: activation(c.hidden_act ?? 'silu'),
    qkvBias: attentionBias,
    oBias: attentionBias,
    mlpBias: bool(c, 'mlp_bias', false),
    attentionScale: 1 / Math.sqrt(headDim),
    layerKinds: Array(numLayers).fill('full'),
    slidingWindow: null,
    rope,
    slidingRope: rope,
  };
}

/**
 *   x ─► input_layernorm ─► attention ─► + ─► post_attention_layernorm ─► mlp ─► +
 *   └────────────────────────────────────┘ └───────────────────────────────────────┘
 * `qkNorm`: a per-head RMSNorm of q and k before RoPE (Qwen3).
 */
export function llamaDecoder({ qkNorm = false } = {}): (ctx: BuildContext) => string {
  return (ctx) => {
    const { g, o } = ctx;
    const w = decoderWeights(ctx, storedScale(ctx));
    const norm = (layer: number, name: LayerNormName, x: string) =>
      rmsNorm(ctx, `/model/layers.${layer}/${name}`, x, w.norm(layer, name));
    let x = embed(ctx);
    for (let layer = 0; layer < o.numLayers; layer++) {
      const path = `/model/layers.${layer}`;
      const h = norm(layer, 'input_layernorm', x);
      const attn = attention(ctx, `${path}/attn`, h, w.attention(layer, { qkNorm }), ctx.span(layer));
      const afterAttn = g.op('Add', `${path}/attn/residual`, [x, attn]);
      const h2 = norm(layer, 'post_attention_layernorm', afterAttn);
      const ff = mlp(ctx, `${path}/mlp`, h2, w.mlp(layer), o.hiddenAct);
      x = g.op('Add', `${path}/mlp/residual`, [afterAttn, ff]);
    }
    return logits(ctx, x, w.finalNorm(), w.lmHead());
  };
}

export const llama: Family = {
  weightPrefixes: ['model.'],
  normalize: (c) => llamaOptions(c),
  build: llamaDecoder(),
  normScale: (w) => w,
};
