// The frozen, typed view of a model's config.json that graph builders read (never the raw JSON).

export type Family = 'llama' | 'qwen2' | 'qwen3' | 'gemma3';
export type LayerKind = 'full' | 'sliding';

export type RopeScaling =
  | { readonly type: 'default' }
  | { readonly type: 'linear'; readonly factor: number }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositionEmbeddings: number;
    };

export interface Rope {
  readonly theta: number;
  readonly scaling: RopeScaling;
}

export interface ModelOptions {
  readonly family: Family;
  /** `model_type` as the file says it (`gemma3` for the multimodal wrapper, `gemma3_text` for text-only). */
  readonly modelType: string;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly tieWordEmbeddings: boolean;
  readonly maxPositionEmbeddings: number;
  readonly hiddenAct: 'silu' | 'gelu_tanh';
  /** Bias tensors on q/k/v (Qwen2 always, Llama/Qwen3 with `attention_bias`). */
  readonly qkvBias: boolean;
  readonly oBias: boolean;
  readonly mlpBias: boolean;
  /** Per-head RMSNorm of q and k before RoPE (Qwen3, Gemma3). */
  readonly qkNorm: boolean;
  /** Gemma-style `(1 + w)` RMSNorm weights. */
  readonly normAddsOne: boolean;
  /** Gemma3's extra norms: post-attention, pre- and post-feedforward. */
  readonly sandwichNorms: boolean;
  /** Multiplies token embeddings by sqrt(hidden) (Gemma). */
  readonly scaleEmbeddings: boolean;
  /** Softmax scale of attention scores. */
  readonly attentionScale: number;
  readonly attnLogitSoftcap: number | null;
  readonly finalLogitSoftcap: number | null;
  readonly layerKinds: readonly LayerKind[];
  /** Tokens a sliding layer attends to, itself included. */
  readonly slidingWindow: number | null;
  readonly rope: Rope;
  /** RoPE of sliding layers when it differs (Gemma3's local base frequency). */
  readonly slidingRope: Rope;
  /** Where the decoder's tensors live: `model.`, `language_model.model.` or `model.language_model.`. */
  readonly weightPrefix: string;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
}
