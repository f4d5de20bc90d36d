// Shared subgraphs of decoder-only transformers, on weight handles the family resolved
// (weights.ts). Hidden states are 2-D [batch * seq, hidden]; only attention sees the batch as a
// dimension of its own.
import type { Activation } from '../config/model-options';
import { composedAttention } from './composed-attention';
import type { BuildContext, LayerSpan, Projection } from './context';
import { GRAPH_INPUTS, kvNames } from './slots';
import type { AttentionWeights, LinearWeights, MlpWeights } from './weights';

const MS = 'com.microsoft';

/**
 *   x ─► RMSNorm(eps) ─► · scale
 */
export function rmsNorm(ctx: BuildContext, path: string, x: string, scale: string): string {
  return ctx.g.op('SimplifiedLayerNormalization', `${path}/SimplifiedLayerNorm`, [x, scale], {
    axis: -1,
    epsilon: { float: ctx.o.rmsNormEps },
    stash_type: 1,
  });
}

/**
 *   x ─► Gemm(W, b, transB) ─────────────────────┐ C      (int8/int4: MatMulNBits(W) + b; f16: in float16)
 *   └──► Gemm(A, transB) ─► Gemm(B, transB, C) ─┴─► y   (LoRA slot; scale folded into B; rank may be 0)
 * Base weights are never modified: every adapter arrives through the slot, in float32. The base
 * output enters the B product as its C term, so the sum costs no node of its own: 196 nodes fewer
 * on Qwen3-0.6B, whose int4 projections with their LoRA, alone, ran 4 % faster for it.
 */
export function linear(ctx: BuildContext, path: string, x: string, w: LinearWeights): string {
  const { g } = ctx;
  const base = project(ctx, path, x, w.weight, w.bias);
  const down = g.op('Gemm', `${path}/lora/A`, [x, w.lora.A], { transB: 1 });
  return g.op('Gemm', `${path}/lora/B`, [down, w.lora.B, base], { transB: 1 });
}

/**
 *   x ─► q_proj ─► (q_norm per head) ─► RoPE ─┐
 *   x ─► k_proj ─► (k_norm per head) ─► RoPE ─┤ GroupQueryAttention ─► o_proj
 *   x ─► v_proj ──────────────────────────────┘   (the past KV read in place)
 * `softcap`: tanh soft-capping of the scores (Gemma's attn_logit_softcapping). Where
 * GroupQueryAttention cannot serve the model, the same attention of standard ops takes its place
 * (`ctx.attention`; attention-kernel.ts, composed-attention.ts).
 */
export function attention(
  ctx: BuildContext,
  path: string,
  x: string,
  w: AttentionWeights,
  span: LayerSpan,
  softcap: number | null = null,
): string {
  const { g, o } = ctx;
  const q = linear(ctx, `${path}/q_proj`, x, w.q);
  const k = linear(ctx, `${path}/k_proj`, x, w.k);
  const v = linear(ctx, `${path}/v_proj`, x, w.v);
  const headNorm = (t: string, name: string, heads: number, scale: string | undefined) => {
    if (!scale) return ctx.toBatch(`${path}/${name}`, t, heads * o.headDim);
    const perHead = g.op('Reshape', `${path}/${name}/Reshape`, [t, g.int64([-1, heads, o.headDim])]);
    const normed = rmsNorm(ctx, `${path}/${name}`, perHead, scale);
    return ctx.toBatch(`${path}/${name}`, normed, heads * o.headDim);
  };
  const rotate = (t: string, name: string, heads: number) =>
    g.op(
      'RotaryEmbedding',
      `${path}/${name}/RotaryEmbedding`,
      [t, GRAPH_INPUTS.positionIds, span.rope.cos, span.rope.sin],
      { num_heads: heads, interleaved: 0 },
      MS,
    );
  const qr = rotate(headNorm(q, 'q_norm', o.numHeads, w.qNorm), 'q_rope', o.numHeads);
  const kr = rotate(headNorm(k, 'k_norm', o.numKvHeads, w.kNorm), 'k_rope', o.numKvHeads);
  const vb = ctx.toBatch(`${path}/v`, v, o.numKvHeads * o.headDim);

  const attn =
    ctx.attention === 'composed'
      ? composedAttention(ctx, path, qr, kr, vb, span, softcap)
      : groupQueryAttention(ctx, path, qr, kr, vb, span, softcap);
  const kv = kvNames(span.layer);
  g.node('Identity', `${path}/new_key`, [kr], {}, { outputNames: [kv.newKey] });
  g.node('Identity', `${path}/new_value`, [vb], {}, { outputNames: [kv.newValue] });
  g.output(kv.newKey, 'float32', ['batch', 'seq', o.numKvHeads * o.headDim]);
  g.output(kv.newValue, 'float32', ['batch', 'seq', o.numKvHeads * o.headDim]);
  const flat = g.op('Reshape', `${path}/Flatten`, [attn, g.int64([-1, o.numHeads * o.headDim])]);
  return linear(ctx, `${path}/o_proj`, flat, w.o);
}

/**
 * ORT's fused attention on the rotated q, k, v over the past inputs ([batch, kvHeads, capacity, D],
 * head-major as it requires). Its present outputs are internal: it fills them from the past and the
 * new tokens (the past is never written).
 */
function groupQueryAttention(
  ctx: BuildContext,
  path: string,
  qr: string,
  kr: string,
  vb: string,
  span: LayerSpan,
  softcap: number | null,
): string {
  const { g, o } = ctx;
  const kv = kvNames(span.layer);
  g.input(kv.pastKey, 'float32', ['batch', o.numKvHeads, 'kv_capacity', o.headDim]);
  g.input(kv.pastValue, 'float32', ['batch', o.numKvHeads, 'kv_capacity', o.headDim]);
  const gqa = `${path}/GroupQueryAttention`;
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
      local_window_size: span.window ?? -1,
      ...(softcap ? { softcap: { float: softcap } } : {}),
    },
    { domain: MS, outputNames: [`${gqa}/output_0`, `${gqa}/present_key`, `${gqa}/present_value`] },
  );
  return attn;
}

/**
 *   x ─► gate_proj ─► act ─┐
 *   x ─► up_proj ──────────┴─► · ─► down_proj
 */
export function mlp(ctx: BuildContext, path: string, x: string, w: MlpWeights, act: Activation): string {
  const { g } = ctx;
  const gate = linear(ctx, `${path}/gate_proj`, x, w.gate);
  const up = linear(ctx, `${path}/up_proj`, x, w.up);
  const activated =
    act === 'silu'
      ? g.op('Mul', `${path}/act/Mul`, [gate, g.op('Sigmoid', `${path}/act/Sigmoid`, [gate])])
      : g.op('Gelu', `${path}/act/Gelu`, [gate], { approximate: 'tanh' });
  const prod = g.op('Mul', `${path}/Mul`, [activated, up]);
  return linear(ctx, `${path}/down_proj`, prod, w.down);
}

/**
 * x · Wᵀ (+ b). A quantized W goes through MatMulNBits with int8 compute (accuracy_level 4: the
 * rows of x are quantized per block too, which MLAS's AVX-512 kernels need to come near the
 * memory-bandwidth floor; levels 1 and 3 took 1.6–1.8× as long at int4 here; its error is within
 * the published int8/int4 tolerances).
 */
export function project(ctx: BuildContext, path: string, x: string, w: Projection, bias?: string): string {
  const { g } = ctx;
  if (w.kind === 'dense') {
    return g.op('Gemm', `${path}/Gemm`, bias ? [x, w.weight, bias] : [x, w.weight], { transB: 1 });
  }
  if (w.kind === 'half') {
    // The hidden states stay float32 between projections (norms, attention and LoRA in float32):
    // only the product runs in float16, on a GPU provider's half-precision kernels.
    const x16 = g.op('Cast', `${path}/CastF16`, [x], { to: 10 });
    const y16 = g.op('Gemm', `${path}/Gemm`, [x16, w.weight], { transB: 1 });
    const y = g.op('Cast', `${path}/CastF32`, [y16], { to: 1 });
    return bias ? g.op('Add', `${path}/Bias`, [y, bias]) : y;
  }
  const y = g.op(
    'MatMulNBits',
    `${path}/MatMulNBits`,
    [x, w.codes, w.scales],
    { K: w.ref.k, N: w.ref.n, bits: w.ref.bits, block_size: w.ref.blockSize, accuracy_level: 4 },
    MS,
  );
  return bias ? g.op('Add', `${path}/Bias`, [y, bias]) : y;
}

/**
 * The tokens' embedding rows [batch, seq, hidden] → [batch * seq, hidden]. The table is not in the
 * graph: the runtime reads the rows a run needs from the checkpoint (runtime/embedding-rows.ts).
 */
export function embed(ctx: BuildContext): string {
  const { g, o } = ctx;
  return g.op('Reshape', '/model/embed_tokens/Flatten', [
    GRAPH_INPUTS.inputsEmbeds,
    g.int64([-1, o.hiddenSize]),
  ]);
}

/**
 * The rows asked for (`logits_rows` into [batch * seq]) ─► final norm ─► LM head: logits
 * [rows, vocab]. A prompt asks for its last row only, so the head (vocabulary × hidden per row,
 * the largest matrix of a small model) runs once, not per token.
 */
export function logits(ctx: BuildContext, x: string, normScale: string, lmHead: Projection): string {
  const { g } = ctx;
  const rows = g.op('Gather', '/model/logits_rows/Gather', [x, GRAPH_INPUTS.logitsRows], { axis: 0 });
  const normed = rmsNorm(ctx, '/model/norm', rows, normScale);
  return project(ctx, '/lm_head', normed, lmHead);
}

/**
 *   x ─► / cap ─► tanh ─► · cap
 */
export function softcap(ctx: BuildContext, path: string, x: string, cap: number): string {
  const { g } = ctx;
  const c = g.float(cap);
  const scaled = g.op('Div', `${path}/Div`, [x, c]);
  return g.op('Mul', `${path}/Mul`, [g.op('Tanh', `${path}/Tanh`, [scaled]), c]);
}
