// A decoder's checkpoint tensors as graph handles: names from checkpoint/tensor-names.ts, shapes
// as config.json implies them. Families resolve these and hand them to the blocks, which never
// spell a tensor name.
import type { LayerNormName } from '../checkpoint/tensor-names';
import type { LinearModule } from '../checkpoint/types';
import type { BuildContext, Projection } from './context';
import { linearShape } from './slots';

export interface LinearWeights {
  readonly weight: Projection;
  readonly bias?: string;
  /** The module's LoRA slot inputs (rank 0 when no adapter targets it). */
  readonly lora: { readonly A: string; readonly B: string };
}

export interface AttentionWeights {
  readonly q: LinearWeights;
  readonly k: LinearWeights;
  readonly v: LinearWeights;
  readonly o: LinearWeights;
  /** Scales of the per-head RMSNorm of q and k before RoPE, in the families that have one. */
  readonly qNorm?: string;
  readonly kNorm?: string;
}

export interface MlpWeights {
  readonly gate: LinearWeights;
  readonly up: LinearWeights;
  readonly down: LinearWeights;
}

/** How a family turns a stored RMSNorm weight into the norm's scale; `path` names any node it adds. */
export type NormScale = (path: string, name: string, size: number) => string;

/** The stored weight is the scale (Llama and most families). */
export function storedScale(ctx: BuildContext): NormScale {
  return (_path, name, size) => ctx.weight(name, [size]);
}

export interface DecoderWeights {
  /** The LM head's [vocab, hidden] weight: the embedding table when tied. */
  lmHead(): Projection;
  finalNorm(): string;
  /** Scale of a layer's RMSNorm `name` (any node it adds goes under /model/layers.{layer}/{name}). */
  norm(layer: number, name: LayerNormName): string;
  /** `qkNorm`: with the per-head q/k norms. */
  attention(layer: number, options?: { qkNorm?: boolean }): AttentionWeights;
  mlp(layer: number): MlpWeights;
}

/** The handles of a decoder whose RMSNorm scales follow `scale`. */
export function decoderWeights(ctx: BuildContext, scale: NormScale): DecoderWeights {
  const { names, o } = ctx;
  const linear = (layer: number, module: LinearModule, withBias: boolean) =>
    linearWeights(ctx, layer, module, withBias);
  const table = [o.vocabSize, o.hiddenSize] as const;
  return {
    lmHead: () => ctx.projection(o.tieWordEmbeddings ? names.embed : names.lmHead, table),
    finalNorm: () => scale('/model/norm', names.finalNorm, o.hiddenSize),
    norm: (layer, name) =>
      scale(`/model/layers.${layer}/${name}`, names.layerNorm(layer, name), o.hiddenSize),
    attention: (layer, { qkNorm = false } = {}) => {
      const path = `/model/layers.${layer}/attn`;
      return {
        q: linear(layer, 'q_proj', o.qkvBias),
        k: linear(layer, 'k_proj', o.qkvBias),
        v: linear(layer, 'v_proj', o.qkvBias),
        o: linear(layer, 'o_proj', o.oBias),
        ...(qkNorm
          ? {
              qNorm: scale(`${path}/q_norm`, names.headNorm(layer, 'q_norm'), o.headDim),
              kNorm: scale(`${path}/k_norm`, names.headNorm(layer, 'k_norm'), o.headDim),
            }
          : {}),
      };
    },
    mlp: (layer) => ({
      gate: linear(layer, 'gate_proj', o.mlpBias),
      up: linear(layer, 'up_proj', o.mlpBias),
      down: linear(layer, 'down_proj', o.mlpBias),
    }),
  };
}

function linearWeights(
  ctx: BuildContext,
  layer: number,
  module: LinearModule,
  withBias: boolean,
): LinearWeights {
  const { inFeatures, outFeatures } = linearShape(ctx.o, module);
  const names = ctx.names.linear(layer, module);
  return {
    weight: ctx.projection(names.weight, [outFeatures, inFeatures]),
    bias: withBias ? ctx.weight(names.bias, [outFeatures]) : undefined,
    lora: ctx.loraSlot(layer, module, inFeatures, outFeatures),
  };
}
