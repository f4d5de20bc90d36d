// Builds the ONNX graph of a checkpoint: the graph's inputs and RoPE tables, then the decoder its
// family writes (families/registry.ts), then the logits output.
// Weights stay in the safetensors files (external data); adapters and KV are run-time inputs.
import type { TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { familyOf } from '../families/registry';
import type { QuantizedWeights } from '../quant/quantized-weights';
import { type AttentionChoice, type AttentionKernel, attentionKernel } from './attention-kernel';
import { BuildContext, type RopeCache } from './context';
import { GraphBuilder } from './onnx-builder';
import { ropeTables } from './rope';
import { GRAPH_INPUTS, LOGITS } from './slots';

export interface BuiltModel {
  readonly onnx: Uint8Array;
  /** External data the graph names: location → absolute path of a safetensors file. */
  readonly externalFiles: ReadonlyMap<string, string>;
  /** Longest sequence (prompt + generated) the RoPE tables cover. */
  readonly maxPositions: number;
  readonly nodes: { op: string; name: string; domain: string }[];
  /** The attention it was built with (attention-kernel.ts). */
  readonly attention: AttentionKernel;
}

export interface BuildOptions {
  /** `auto` (the CPU's) unless a test or benchmark forces one; forcing `gqa` where it cannot serve throws an InputError. */
  readonly attention?: AttentionChoice;
  /** The int8/int4 copy of the weights the graph reads instead of `tensors` (quant/). */
  readonly quantized?: QuantizedWeights;
  /** f16: the linear weights and the LM head in float16, multiplied in float16 (GPU providers). */
  readonly half?: boolean;
}

export function buildModel(
  options: ModelOptions,
  tensors: TensorSource,
  maxPositions: number,
  build: BuildOptions = {},
): BuiltModel {
  const attention = attentionKernel(options, build.attention);
  const g = new GraphBuilder();
  g.input(GRAPH_INPUTS.inputsEmbeds, 'float32', ['batch', 'seq', options.hiddenSize]);
  g.input(GRAPH_INPUTS.positionIds, 'int64', ['batch', 'seq']);
  g.input(GRAPH_INPUTS.seqlensK, 'int32', ['batch']);
  g.input(GRAPH_INPUTS.totalSequenceLength, 'int32', []);
  g.input(GRAPH_INPUTS.logitsRows, 'int64', ['rows']);

  const ctx = new BuildContext(g, options, tensors, ropeCaches(g, options, maxPositions), attention, {
    quantized: build.quantized,
    half: build.half,
  });
  const logits = familyOf(options.modelType).build(ctx);
  g.node('Identity', '/lm_head/output', [logits], {}, { outputNames: [LOGITS] });
  g.output(LOGITS, 'float32', ['rows', options.vocabSize]);
  return {
    onnx: g.toBytes({ '': 21, 'com.microsoft': 1 }),
    externalFiles: ctx.externalFiles,
    maxPositions,
    nodes: g.listNodes(),
    attention,
  };
}

function ropeCaches(
  g: GraphBuilder,
  o: ModelOptions,
  positions: number,
): { full: RopeCache; sliding: RopeCache } {
  const table = (name: string, rope: ModelOptions['rope']): RopeCache => {
    const { cos, sin } = ropeTables(rope, o.headDim, positions);
    return {
      cos: g.floatTensor(`/rope/${name}/cos`, cos, [positions, o.headDim / 2]),
      sin: g.floatTensor(`/rope/${name}/sin`, sin, [positions, o.headDim / 2]),
    };
  };
  const full = table('full', o.rope);
  const same = JSON.stringify(o.slidingRope) === JSON.stringify(o.rope);
  return { full, sliding: same ? full : table('sliding', o.slidingRope) };
}
