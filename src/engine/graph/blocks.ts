// Shared subgraphs of decoder-only transformers. Hidden states are 2-D [batch * seq, hidden]; only
// attention sees the batch as a dimension of its own.
import type { LinearModule } from '../checkpoint/types';
import type { BuildContext } from './context';
import { GRAPH_INPUTS, kvNames, linearShape } from './slots';

const MS = 'com.microsoft';

/**
 *   x ─► RMSNorm(eps) ─► · w        (Gemma: · (1 + w))
 */
export function rmsNorm(
  ctx: BuildContext,
  path: string,
  x: string,
  weightName: string,
  size: number,
): string {
  const { g, o } = ctx;
  let w = ctx.weight(weightName, [size]);
  if (o.normAddsOne) w = g.op('Add', `${path}/AddOne`, [w, g.float(1)]);
  return g.op('SimplifiedLayerNormalization', `${path}/SimplifiedLayerNorm`, [x, w], {
    axis: -1,
    epsilon: { float: o.rmsNormEps },
    stash_type: 1,
  });
}

/**
 *   x ─► Gemm(W, b, transB) ──────────────► + ─► y
 *   └──► Gemm(A, transB) ─► Gemm(B, transB) ┘      (LoRA slot; scale folded into B; rank may be 0)
 * Base weights are never modified: every adapter arrives through the slot.
 */
export function linear(
  ctx: BuildContext,
  path: string,
  x: string,
  layer: number,
  module: LinearModule,
  withBias: boolean,
): string {
  const { g, o } = ctx;
  const { inFeatures, outFeatures } = linearShape(o, module);
  const prefix = `${o.weightPrefix}layers.${layer}.${module === 'gate_proj' || module === 'up_proj' || module === 'down_proj' ? 'mlp' : 'self_attn'}.${module}`;
  const w = ctx.weight(`${prefix}.weight`, [outFeatures, inFeatures]);
  const inputs = withBias ? [x, w, ctx.weight(`${prefix}.bias`, [outFeatures])] : [x, w];
  const base = g.op('Gemm', `${path}/Gemm`, inputs, { transB: 1 });
  const slot = ctx.loraSlot(layer, module, inFeatures, outFeatures);
  const down = g.op('Gemm', `${path}/lora/A`, [x, slot.A], { transB: 1 });
  const up = g.op('Gemm', `${path}/lora/B`, [down, slot.B], { transB: 1 });
  return g.op('Add', `${path}/lora/Add`, [base, up]);
}

/**
 *   x ─► q_proj ─► (q_norm per head) ─► RoPE ─┐
 *   x ─► k_proj ─► (k_norm per head) ─► RoPE ─┤ GroupQueryAttention ─► o_proj
 *   x ─► v_proj ──────────────────────────────┘   (past/present KV share one buffer)
 */
export function attention(
  ctx: BuildContext,
  path: string,
  x: string,
  layer: number,
  rope: RopeCache,
): string {
  const { g, o } = ctx;
  const attnPrefix = `${o.weightPrefix}layers.${layer}.self_attn`;
  const q = linear(ctx, `${path}/q_proj`, x, layer, 'q_proj', o.qkvBias);
  const k = linear(ctx, `${path}/k_proj`, x, layer, 'k_proj', o.qkvBias);
  const v = linear(ctx, `${path}/v_proj`, x, layer, 'v_proj', o.qkvBias);
  const headNorm = (t: string, name: 'q_norm' | 'k_norm', heads: number) => {
    if (!o.qkNorm) return ctx.toBatch(`${path}/${name}`, t, heads * o.headDim);
    const perHead = g.op('Reshape', `${path}/${name}/Reshape`, [t, g.int64([-1, heads, o.headDim])]);
    const normed = rmsNorm(ctx, `${path}/${name}`, perHead, `${attnPrefix}.${name}.weight`, o.headDim);
    return ctx.toBatch(`${path}/${name}`, normed, heads * o.headDim);
  };
  const rotate = (t: string, name: string, heads: number) =>
    g.op(
      'RotaryEmbedding',
      `${path}/${name}/RotaryEmbedding`,
      [t, GRAPH_INPUTS.positionIds, rope.cos, rope.sin],
      { num_heads: heads, interleaved: 0 },
      MS,
    );
  const qr = rotate(headNorm(q, 'q_norm', o.numHeads), 'q_rope', o.numHeads);
  const kr = rotate(headNorm(k, 'k_norm', o.numKvHeads), 'k_rope', o.numKvHeads);
  const vb = ctx.toBatch(`${path}/v`, v, o.numKvHeads * o.headDim);

  const kv = kvNames(layer);
  const sliding = o.layerKinds[layer] === 'sliding' && o.slidingWindow !== null;
  const [attn] = g.node(
    'GroupQueryAttention',
    `${path}/GroupQueryAttention`,
    [qr, kr, vb, kv.pastKey, kv.pastValue, GRAPH_INPUTS.seqlensK, GRAPH_INPUTS.totalSequenceLength],
    {
      num_heads: o.numHeads,
      kv_num_heads: o.numKvHeads,
      scale: { float: o.attentionScale },
      // In ORT 1.30 the window counts the current token, as transformers' sliding_window does
      // (checked against the Gemma3 fixtures: one less or one more breaks the 4th position).
      local_window_size: sliding ? (o.slidingWindow as number) : -1,
      ...(o.attnLogitSoftcap ? { softcap: { float: o.attnLogitSoftcap } } : {}),
    },
    { domain: MS, outputNames: [`${path}/GroupQueryAttention/output_0`, kv.presentKey, kv.presentValue] },
  );
  g.input(kv.pastKey, 'float32', ['batch', o.numKvHeads, 'kv_capacity', o.headDim]);
  g.input(kv.pastValue, 'float32', ['batch', o.numKvHeads, 'kv_capacity', o.headDim]);
  g.output(kv.presentKey, 'float32', ['batch', o.numKvHeads, 'kv_capacity', o.headDim]);
  g.output(kv.presentValue, 'float32', ['batch', o.numKvHeads, 'kv_capacity', o.headDim]);
  const flat = g.op('Reshape', `${path}/Flatten`, [attn, g.int64([-1, o.numHeads * o.headDim])]);
  return linear(ctx, `${path}/o_proj`, flat, layer, 'o_proj', o.oBias);
}

/**
 *   x ─► gate_proj ─► act ─┐
 *   x ─► up_proj ──────────┴─► · ─► down_proj
 */
export function mlp(ctx: BuildContext, path: string, x: string, layer: number): string {
  const { g, o } = ctx;
  const gate = linear(ctx, `${path}/gate_proj`, x, layer, 'gate_proj', o.mlpBias);
  const up = linear(ctx, `${path}/up_proj`, x, layer, 'up_proj', o.mlpBias);
  const act =
    o.hiddenAct === 'silu'
      ? g.op('Mul', `${path}/act/Mul`, [gate, g.op('Sigmoid', `${path}/act/Sigmoid`, [gate])])
      : g.op('Gelu', `${path}/act/Gelu`, [gate], { approximate: 'tanh' });
  const prod = g.op('Mul', `${path}/Mul`, [act, up]);
  return linear(ctx, `${path}/down_proj`, prod, layer, 'down_proj', o.mlpBias);
}

export interface RopeCache {
  cos: string;
  sin: string;
}

/** Token ids [batch, seq] → embeddings [batch * seq, hidden] (Gemma scales them by sqrt(hidden)). */
export function embed(ctx: BuildContext): string {
  const { g, o } = ctx;
  const table = ctx.weight(`${o.weightPrefix}embed_tokens.weight`, [o.vocabSize, o.hiddenSize]);
  const ids = g.op('Reshape', '/model/embed_tokens/Flatten', [GRAPH_INPUTS.inputIds, g.int64([-1])]);
  const x = g.op('Gather', '/model/embed_tokens/Gather', [table, ids]);
  return o.scaleEmbeddings
    ? g.op('Mul', '/model/embed_tokens/Scale', [x, g.float(Math.sqrt(o.hiddenSize))])
    : x;
}

/**
 * The rows asked for (`logits_rows` into [batch * seq]) ─► final norm ─► LM head (tied or not)
 * ─► optional soft-capping: logits [rows, vocab]. A prompt asks for its last row only, so the
 * head (vocabulary × hidden per row, the largest matrix of a small model) runs once, not per token.
 */
export function head(ctx: BuildContext, x: string, outputName: string): void {
  const { g, o } = ctx;
  const rows = g.op('Gather', '/model/logits_rows/Gather', [x, GRAPH_INPUTS.logitsRows], { axis: 0 });
  const normed = rmsNorm(ctx, '/model/norm', rows, `${o.weightPrefix}norm.weight`, o.hiddenSize);
  const lmHeadName = o.tieWordEmbeddings ? `${o.weightPrefix}embed_tokens.weight` : 'lm_head.weight';
  const w = ctx.weight(lmHeadName, [o.vocabSize, o.hiddenSize]);
  let logits = g.op('Gemm', '/lm_head/Gemm', [normed, w], { transB: 1 });
  if (o.finalLogitSoftcap) {
    const cap = g.float(o.finalLogitSoftcap);
    const scaled = g.op('Div', '/lm_head/softcap/Div', [logits, cap]);
    logits = g.op('Mul', '/lm_head/softcap/Mul', [g.op('Tanh', '/lm_head/softcap/Tanh', [scaled]), cap]);
  }
  g.node('Identity', '/lm_head/output', [logits], {}, { outputNames: [outputName] });
  g.output(outputName, 'float32', ['rows', o.vocabSize]);
}
