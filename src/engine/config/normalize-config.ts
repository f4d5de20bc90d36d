// config.json → ModelOptions, once, for every supported family. Field defaults follow the
// transformers configuration classes of each family.
import { InputError } from '../checkpoint/types';
import type { Family, LayerKind, ModelOptions, Rope, RopeScaling } from './model-options';

type Json = Record<string, unknown>;

export const SUPPORTED_MODEL_TYPES = ['llama', 'qwen2', 'qwen3', 'gemma3_text', 'gemma3'] as const;

/**
 * Normalises a parsed config.json. `hasTensor` tells which weight prefix the checkpoint uses
 * (Gemma3's multimodal checkpoints have two layouts).
 */
export function normalizeConfig(raw: unknown, hasTensor: (name: string) => boolean): ModelOptions {
  if (!isObject(raw)) throw new InputError('config.json is not a JSON object');
  const modelType = raw.model_type;
  switch (modelType) {
    case 'llama':
    case 'qwen2':
    case 'qwen3':
      return llamaLike(modelType, raw, hasTensor);
    case 'gemma3_text':
      return gemma3(raw, 'gemma3_text', ['model.'], hasTensor);
    case 'gemma3': {
      const text = raw.text_config;
      if (!isObject(text)) throw new InputError('config.json of a gemma3 model has no text_config');
      return gemma3(text, 'gemma3', ['language_model.model.', 'model.language_model.'], hasTensor, raw);
    }
    default:
      throw new InputError(
        `model_type ${JSON.stringify(modelType)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
      );
  }
}

function llamaLike(family: Family, c: Json, hasTensor: (name: string) => boolean): ModelOptions {
  const hiddenSize = int(c, 'hidden_size');
  const numHeads = int(c, 'num_attention_heads');
  const headDim = optInt(c, 'head_dim') ?? (family === 'qwen3' ? 128 : hiddenSize / numHeads);
  const attentionBias = bool(c, 'attention_bias', false);
  const numLayers = int(c, 'num_hidden_layers');
  const rope = ropeOf(c, 10000);
  const slidingWindow = family === 'llama' ? null : qwenSlidingWindow(c);
  return finish({
    family,
    modelType: family,
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
    qkvBias: family === 'qwen2' ? true : attentionBias,
    oBias: family === 'qwen2' ? false : attentionBias,
    mlpBias: family === 'llama' ? bool(c, 'mlp_bias', false) : false,
    qkNorm: family === 'qwen3',
    normAddsOne: false,
    sandwichNorms: false,
    scaleEmbeddings: false,
    attentionScale: 1 / Math.sqrt(headDim),
    attnLogitSoftcap: null,
    finalLogitSoftcap: null,
    layerKinds: slidingWindow ? qwenLayerKinds(c, numLayers) : Array(numLayers).fill('full'),
    slidingWindow,
    rope,
    slidingRope: rope,
    weightPrefix: pickPrefix(['model.'], hasTensor),
    bosTokenId: optInt(c, 'bos_token_id') ?? null,
    eosTokenIds: tokenIds(c.eos_token_id),
  });
}

/** Qwen2/Qwen3 only slide when `use_sliding_window` is set, from layer `max_window_layers` on. */
function qwenSlidingWindow(c: Json): number | null {
  if (!bool(c, 'use_sliding_window', false)) return null;
  return optInt(c, 'sliding_window') ?? null;
}

function qwenLayerKinds(c: Json, numLayers: number): LayerKind[] {
  const declared = layerTypes(c, numLayers);
  if (declared) return declared;
  const maxWindowLayers = optInt(c, 'max_window_layers') ?? numLayers;
  return Array.from({ length: numLayers }, (_, i) => (i >= maxWindowLayers ? 'sliding' : 'full'));
}

function gemma3(
  c: Json,
  modelType: string,
  prefixes: string[],
  hasTensor: (name: string) => boolean,
  outer?: Json,
): ModelOptions {
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
    : { theta: num(c, 'rope_local_base_freq', 10000), scaling: { type: 'default' } };
  const hiddenSize = optInt(c, 'hidden_size') ?? 2304;
  const numHeads = optInt(c, 'num_attention_heads') ?? 8;
  return finish({
    family: 'gemma3',
    modelType,
    vocabSize: optInt(c, 'vocab_size') ?? 262208,
    hiddenSize,
    intermediateSize: optInt(c, 'intermediate_size') ?? 9216,
    numLayers,
    numHeads,
    numKvHeads: optInt(c, 'num_key_value_heads') ?? 4,
    headDim,
    rmsNormEps: num(c, 'rms_norm_eps', 1e-6),
    tieWordEmbeddings: bool(c, 'tie_word_embeddings', true),
    maxPositionEmbeddings: optInt(c, 'max_position_embeddings') ?? 131072,
    hiddenAct: activation(c.hidden_activation ?? c.hidden_act ?? 'gelu_pytorch_tanh'),
    qkvBias: bool(c, 'attention_bias', false),
    oBias: bool(c, 'attention_bias', false),
    mlpBias: false,
    qkNorm: true,
    normAddsOne: true,
    sandwichNorms: true,
    scaleEmbeddings: true,
    attentionScale: num(c, 'query_pre_attn_scalar', 256) ** -0.5,
    attnLogitSoftcap: optNum(c, 'attn_logit_softcapping'),
    finalLogitSoftcap: optNum(c, 'final_logit_softcapping'),
    layerKinds,
    slidingWindow: optInt(c, 'sliding_window') ?? 4096,
    rope,
    slidingRope,
    weightPrefix: pickPrefix(prefixes, hasTensor),
    bosTokenId: optInt(c, 'bos_token_id') ?? (outer ? (optInt(outer, 'bos_token_id') ?? null) : 2),
    eosTokenIds: tokenIds(c.eos_token_id ?? outer?.eos_token_id ?? 1),
  });
}

function finish(o: ModelOptions): ModelOptions {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new InputError(`config.json is inconsistent: ${what}`);
  };
  check(Number.isInteger(o.headDim) && o.headDim > 0, `head_dim ${o.headDim} is not a positive integer`);
  check(o.headDim % 2 === 0, `head_dim ${o.headDim} is odd, so RoPE cannot rotate it`);
  check(
    o.numHeads % o.numKvHeads === 0,
    `${o.numHeads} attention heads are not a multiple of ${o.numKvHeads} KV heads`,
  );
  check(
    o.layerKinds.length === o.numLayers,
    `layer_types lists ${o.layerKinds.length} layers, not ${o.numLayers}`,
  );
  check(
    o.layerKinds.every((k) => k === 'full') || (o.slidingWindow !== null && o.slidingWindow > 0),
    'sliding layers without a sliding_window',
  );
  return Object.freeze({
    ...o,
    layerKinds: Object.freeze([...o.layerKinds]),
    eosTokenIds: Object.freeze([...o.eosTokenIds]),
  });
}

function pickPrefix(prefixes: string[], hasTensor: (name: string) => boolean): string {
  const found = prefixes.find((p) => hasTensor(`${p}embed_tokens.weight`));
  if (!found) {
    throw new InputError(
      `the checkpoint has no token embeddings (looked for ${prefixes.map((p) => `${p}embed_tokens.weight`).join(', ')})`,
    );
  }
  return found;
}

function ropeOf(c: Json, defaultTheta: number): Rope {
  // transformers 5 moves rope_theta and rope_scaling into rope_parameters.
  if (isObject(c.rope_parameters)) return ropeFromParameters(c.rope_parameters, defaultTheta);
  return { theta: num(c, 'rope_theta', defaultTheta), scaling: ropeScaling(c.rope_scaling) };
}

function ropeFromParameters(p: Json, defaultTheta: number): Rope {
  return { theta: num(p, 'rope_theta', defaultTheta), scaling: ropeScaling(p) };
}

function ropeScaling(s: unknown): RopeScaling {
  if (s === null || s === undefined) return { type: 'default' };
  if (!isObject(s)) throw new InputError('config.json rope_scaling is not an object');
  const type = s.rope_type ?? s.type ?? 'default';
  switch (type) {
    case 'default':
      return { type: 'default' };
    case 'linear':
      return { type: 'linear', factor: num(s, 'factor') };
    case 'llama3':
      return {
        type: 'llama3',
        factor: num(s, 'factor'),
        lowFreqFactor: num(s, 'low_freq_factor', 1),
        highFreqFactor: num(s, 'high_freq_factor', 4),
        originalMaxPositionEmbeddings: int(s, 'original_max_position_embeddings'),
      };
    default:
      throw new InputError(
        `rope_scaling of type ${JSON.stringify(type)} is not supported (supported: default, linear, llama3)`,
      );
  }
}

function layerTypes(c: Json, numLayers: number): LayerKind[] | null {
  const t = c.layer_types;
  if (t === undefined || t === null) return null;
  if (!Array.isArray(t) || t.length !== numLayers) {
    throw new InputError(`config.json layer_types must list ${numLayers} layers`);
  }
  return t.map((k) => {
    if (k === 'full_attention') return 'full';
    if (k === 'sliding_attention') return 'sliding';
    throw new InputError(`config.json layer type ${JSON.stringify(k)} is not supported`);
  });
}

function activation(name: unknown): 'silu' | 'gelu_tanh' {
  if (name === 'silu' || name === 'swish') return 'silu';
  if (name === 'gelu_pytorch_tanh' || name === 'gelu_new') return 'gelu_tanh';
  throw new InputError(
    `activation ${JSON.stringify(name)} is not supported (supported: silu, gelu_pytorch_tanh)`,
  );
}

function tokenIds(v: unknown): number[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => Number.isInteger(x)))
    throw new InputError('config.json eos_token_id is not an integer');
  return list as number[];
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(c: Json, key: string): number {
  const v = optInt(c, key);
  if (v === undefined) throw new InputError(`config.json has no integer ${key}`);
  return v;
}

function optInt(c: Json, key: string): number | undefined {
  const v = c[key];
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || (v as number) < 0)
    throw new InputError(`config.json ${key} is not a non-negative integer`);
  return v as number;
}

function num(c: Json, key: string, fallback?: number): number {
  const v = c[key];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new InputError(`config.json has no number ${key}`);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new InputError(`config.json ${key} is not a number`);
  return v;
}

function optNum(c: Json, key: string): number | null {
  const v = c[key];
  return v === undefined || v === null ? null : num(c, key);
}

function bool(c: Json, key: string, fallback: boolean): boolean {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new InputError(`config.json ${key} is not true or false`);
  return v;
}
