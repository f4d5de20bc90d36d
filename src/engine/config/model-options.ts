// The frozen, typed view of a model's config.json that graph builders read (never the raw JSON).
// A family adds its own fields (families/gemma3.ts: soft-capping); these are the ones shared.

export type LayerKind = 'full' | 'sliding';
export type Activation = 'silu' | 'gelu_tanh';

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
  /** `model_type` as the file says it: the key of the family registry (families/registry.ts). */
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
  readonly hiddenAct: Activation;
  /** Bias tensors on q/k/v, on o, on the MLP's projections. */
  readonly qkvBias: boolean;
  readonly oBias: boolean;
  readonly mlpBias: boolean;
  /** Softmax scale of attention scores. */
  readonly attentionScale: number;
  readonly layerKinds: readonly LayerKind[];
  /** Tokens a sliding layer attends to, itself included. */
  readonly slidingWindow: number | null;
  readonly rope: Rope;
  /** RoPE of sliding layers when it differs (Gemma3's local base frequency). */
  readonly slidingRope: Rope;
  /** Where the decoder's tensors live: `model.`, `language_model.model.` or `model.language_model.`. */
  readonly weightPrefix: string;
}
