// Names of the graph's run-time inputs and outputs, shared by the builder and the runtime.
import type { LinearModule } from '../checkpoint/types';

export function loraInputNames(layer: number, module: LinearModule): { A: string; B: string; rank: string } {
  return { A: `lora.${layer}.${module}.A`, B: `lora.${layer}.${module}.B`, rank: `r.${layer}.${module}` };
}

/**
 * A layer's KV cache as the graph sees it: the past as inputs ([batch, kvHeads, capacity, D], read
 * in place), and the new tokens' keys and values as outputs ([batch, seq, kvHeads·D]), which the
 * runtime writes into its buffers. A full-size present output would cost a copy of the whole cache
 * per run: onnxruntime-node 1.30 copies every fetched output into a new ArrayBuffer, preallocated
 * or not (measured: decode at capacity 8192 took 1.7 s instead of 0.14 s on Qwen3-0.6B int4).
 */
export function kvNames(layer: number): {
  pastKey: string;
  pastValue: string;
  newKey: string;
  newValue: string;
} {
  return {
    pastKey: `past_key.${layer}`,
    pastValue: `past_value.${layer}`,
    newKey: `new_key.${layer}`,
    newValue: `new_value.${layer}`,
  };
}

export const GRAPH_INPUTS = {
  /** The tokens' embedding rows, float32 [batch, seq, hidden] (runtime/embedding-rows.ts reads them). */
  inputsEmbeds: 'inputs_embeds',
  positionIds: 'position_ids',
  seqlensK: 'seqlens_k',
  totalSequenceLength: 'total_sequence_length',
  /** Which rows of the flattened [batch * seq] positions get logits (the LM head runs on those only). */
  logitsRows: 'logits_rows',
} as const;

export const LOGITS = 'logits';

/** The (in, out) features of one linear module, as the family's config implies. */
export function linearShape(
  o: { hiddenSize: number; intermediateSize: number; numHeads: number; numKvHeads: number; headDim: number },
  module: LinearModule,
): { inFeatures: number; outFeatures: number } {
  const q = o.numHeads * o.headDim;
  const kv = o.numKvHeads * o.headDim;
  switch (module) {
    case 'q_proj':
      return { inFeatures: o.hiddenSize, outFeatures: q };
    case 'k_proj':
    case 'v_proj':
      return { inFeatures: o.hiddenSize, outFeatures: kv };
    case 'o_proj':
      return { inFeatures: q, outFeatures: o.hiddenSize };
    case 'gate_proj':
    case 'up_proj':
      return { inFeatures: o.hiddenSize, outFeatures: o.intermediateSize };
    case 'down_proj':
      return { inFeatures: o.intermediateSize, outFeatures: o.hiddenSize };
  }
}
