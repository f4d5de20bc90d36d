// Gemma3's text decoder (transformers' Gemma3ForCausalLM; model_type `gemma3` wraps it with a
// vision tower, its config under `text_config`). Where it differs from Llama (llama.ts): sandwich
// norms, (1 + w) norm scales, q/k norms, scaled embeddings, soft-capping, sliding layers with
// their own RoPE base, and its config's defaults.
import type { LayerNormName } from '../checkpoint/tensor-names';
import { InputError } from '../checkpoint/types';
import {
  activation,
  bool,
  isObject,
  type Json,
  layerTypes,
  num,
  optInt,
  optNum,
  positive,
  ropeFromParameters,
  ropeOf,
} from '../config/config-fields';
import type { LayerKind, ModelOptions, Rope } from '../config/model-options';
import { attention, embed, logits, mlp, rmsNorm, softcap } from '../graph/blocks';
import type { BuildContext } from '../graph/context';
import { decoderWeights, type NormScale } from '../graph/weights';
import type { Family, FamilyOptions } from './family';

export interface Gemma3Options extends ModelOptions {
  readonly attnLogitSoftcap: number | null;
  readonly finalLogitSoftcap: number | null;
}

function gemma3Options(c: Json): FamilyOptions<Gemma3Options> {
  const numLayers = optInt(c, 'num_hidden_layers') ?? 26;
  const headDim = optInt(c, 'head_dim') ?? 256;
  const pattern = optInt(c, 'sliding_window_pattern') ?? 6;
  const layerKinds =
    layerTypes(c, numLayers) ??
    Array.from({ length: numLayers }, (_, i): LayerKind => ((i + 1) % pattern === 0 ? 'full' : 'sliding'));
  const perType = isObject(c.rope_parameters) && isObject(c.rope_parameters.full_attention);
  const rope = perType
    ? ropeFromParameters((c.rope_parameters as Json).full_attention as Json, 1_000_000)
    : ropeOf(c, 1_000_000);
  const slidingRope: Rope = perType
    ? ropeFromParameters((c.rope_parameters as Json).sliding_attention as Json, 10000)
    : { theta: positive(c, 'rope_local_base_freq', 10000), scaling: { type: 'default' } };
  return {
    vocabSize: optInt(c, 'vocab_size') ?? 262208,
    hiddenSize: optInt(c, 'hidden_size') ?? 2304,
    intermediateSize: optInt(c, 'intermediate_size') ?? 9216,
    numLayers,
    numHeads: optInt(c, 'num_attention_heads') ?? 8,
    numKvHeads: optInt(c, 'num_key_value_heads') ?? 4,
    headDim,
    rmsNormEps: num(c, 'rms_norm_eps', 1e-6),
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', true),
    maxPositionEmbeddings: optInt(c, 'max_position_embeddings') ?? 131072,
    hiddenAct: activation(c.hidden_activation ?? c.hidden_act ?? 'gelu_pytorch_tanh'),
    qkvBias: bool(c, 'attention_bias', false),
    oBias: bool(c, 'attention_bias', false),
    mlpBias: false,
    attentionScale: positive(c, 'query_pre_attn_scalar', 256) ** -0.5,
    attnLogitSoftcap: optNum(c, 'attn_logit_softcapping'),
    finalLogitSoftcap: optNum(c, 'final_logit_softcapping'),
    layerKinds,
    slidingWindow: optInt(c, 'sliding_window') ?? 4096,
    rope,
    slidingRope,
  };
}

/** Gemma stores each RMSNorm weight as an offset from one: the scale is (1 + w). */
function addOne(ctx: BuildContext): NormScale {
  return (path, name, size) => ctx.g.op('Add', `${path}/AddOne`, [ctx.weight(name, [size]), ctx.g.float(1)]);
}

/**
 *   x ─► input_layernorm ─► attention ─► post_attention_layernorm ─► +
 *   └────────────────────────────────────────────────────────────────┘
 *   ─► pre_feedforward_layernorm ─► mlp ─► post_feedforward_layernorm ─► +
 */
function build(ctx: BuildContext<Gemma3Options>): string {
  const { g, o } = ctx;
  const w = decoderWeights(ctx, addOne(ctx));
  const norm = (layer: number, name: LayerNormName, x: string) =>
    rmsNorm(ctx, `/model/layers.${layer}/${name}`, x, w.norm(layer, name));
  const tokens = embed(ctx);
  let x = g.op('Mul', '/model/embed_tokens/Scale', [tokens, g.float(Math.sqrt(o.hiddenSize))]);
  for (let layer = 0; layer < o.numLayers; layer++) {
    const path = `/model/layers.${layer}`;
    const h = norm(layer, 'input_layernorm', x);
    const weights = w.attention(layer, { qkNorm: true });
    const attn = attention(ctx, `${path}/attn`, h, weights, ctx.span(layer), o.attnLogitSoftcap);
    const attnOut = norm(layer, 'post_attention_layernorm', attn);
    const afterAttn = g.op('Add', `${path}/attn/residual`, [x, attnOut]);
    const h2 = norm(layer, 'pre_feedforward_layernorm', afterAttn);
    const ff = mlp(ctx, `${path}/mlp`, h2, w.mlp(layer), o.hiddenAct);
    x = g.op('Add', `${path}/mlp/residual`, [afterAttn, norm(layer, 'post_feedforward_layernorm', ff)]);
  }
  const out = logits(ctx, x, w.finalNorm(), w.lmHead());
  return o.finalLogitSoftcap ? softcap(ctx, '/lm_head/softcap', out, o.finalLogitSoftcap) : out;
}

export const gemma3Text: Family<Gemma3Options> = {
  weightPrefixes: ['model.'],
  normalize: gemma3Options,
  build,
  normScale: (w) => w.map((v) => 1 + v),
};

export const gemma3: Family<Gemma3Options> = {
  ...gemma3Text,
  weightPrefixes: ['language_model.model.', 'model.language_model.'],
  normalize: (c) => {
    if (!isObject(c.text_config)) throw new InputError('config.json of a gemma3 model has no text_config');
    return gemma3Options(c.text_config);
  },
};
