// The decoder's linear projections and its LM head alone, one token (M = 1), over the very
// weights a session of the engine reads (the same quantized copy, the same kernels and session
// options): the kernels' own speed, beside the memory-bandwidth floor of the same bytes. Decode
// minus this is what the rest of the graph costs (attention, norms, LoRA, per-node dispatch).
import { dirname } from 'node:path';
import { LINEAR_MODULES, type TensorSource } from '../src/engine/checkpoint/types';
import type { ModelOptions } from '../src/engine/config/model-options';
import { project } from '../src/engine/graph/blocks';
import { BuildContext } from '../src/engine/graph/context';
import { GraphBuilder } from '../src/engine/graph/onnx-builder';
import { linearShape } from '../src/engine/graph/slots';
import { BITS, BLOCK_SIZE, isQuantized, type Precision } from '../src/engine/quant/precision';
import { quantizedWeights } from '../src/engine/quant/quantized-weights';
import { createOrtModel, type FeedSpec } from '../src/engine/runtime/ort-session';
import type { ProviderName } from '../src/engine/runtime/providers';
import { median } from './measure';

export async function projectionsAloneMs(
  o: ModelOptions,
  tensors: TensorSource,
  precision: Precision,
  quantizedCache: string,
  threads: number,
  provider: ProviderName = 'cpu',
  runs = 16,
): Promise<number> {
  const quantized = isQuantized(precision)
    ? await quantizedWeights(o, tensors, BITS[precision], BLOCK_SIZE, quantizedCache, threads)
    : undefined;
  const g = new GraphBuilder();
  // No attention is built, so no RoPE table is ever asked for.
  const noRope = { cos: '', sin: '' };
  const ctx = new BuildContext(g, o, tensors, { full: noRope, sliding: noRope }, 'composed', {
    quantized,
    half: precision === 'f16',
  });
  const inputs = new Map<number, string>();
  const input = (width: number) => {
    let name = inputs.get(width);
    if (!name) {
      name = g.input(`x${width}`, 'float32', [1, width]);
      inputs.set(width, name);
    }
    return name;
  };
  const outputs: string[] = [];
  const emit = (path: string, weight: string, [n, k]: readonly [number, number]) => {
    const y = project(ctx, path, input(k), ctx.projection(weight, [n, k]));
    const out = `y${outputs.length}`;
    g.node('Identity', `${path}/out`, [y], {}, { outputNames: [out] });
    g.output(out, 'float32', [1, n]);
    outputs.push(out);
  };
  for (let layer = 0; layer < o.numLayers; layer++) {
    for (const module of LINEAR_MODULES) {
      const { inFeatures, outFeatures } = linearShape(o, module);
      emit(`/l${layer}/${module}`, ctx.names.linear(layer, module).weight, [outFeatures, inFeatures]);
    }
  }
  emit('/lm_head', o.tieWordEmbeddings ? ctx.names.embed : ctx.names.lmHead, [o.vocabSize, o.hiddenSize]);
  const onnx = g.toBytes({ '': 21, 'com.microsoft': 1 });
  const model = await createOrtModel({
    onnx: () => onnx,
    externalDataFolder: dirname([...ctx.externalFiles.values()][0]),
    provider,
    threads,
    prepack: quantized !== undefined,
  });
  try {
    const feeds: FeedSpec[] = [...inputs].map(([width, name]) => ({
      name,
      type: 'float32',
      data: Float32Array.from({ length: width }, (_, i) => Math.sin(i)),
      dims: [1, width],
    }));
    const times: number[] = [];
    for (let r = 0; r < runs + 2; r++) {
      const t = performance.now();
      await model.run(feeds, outputs);
      if (r >= 2) times.push(performance.now() - t);
    }
    return median(times);
  } finally {
    await model.release();
  }
}
