// Attention of standard ONNX ops, for the models GroupQueryAttention cannot run
// (attention-kernel.ts). Same inputs, outputs and KV cache as that op (slots.ts): the runtime
// cannot tell them apart. Per layer:
//
//   k, v [batch, seq, kvHeads·D] ─► [batch, kvHeads, seq, D] ─┐
//   past [batch, kvHeads, capacity, D] ─► Slice [0, total - seq) ┴─► Concat ─► keys, values
//   q ─► · scale ─► [batch, kvHeads, seq·group, D] ─► · keysᵀ ─► (softcap) ─► mask ─► Softmax ─► · values
//        ─► [batch, seq, heads·D]
//
// The query heads of one KV head are rows of one matrix product (group = heads / kvHeads), so
// keys and values are never repeated. A key slot j is seen by the query at position p iff
// j <= p (and p - j < window in a sliding layer); slots past the total length are never read.
import type { BuildContext, LayerSpan } from './context';
import { GRAPH_INPUTS, kvNames } from './slots';

export function composedAttention(
  ctx: BuildContext,
  path: string,
  q: string,
  k: string,
  v: string,
  span: LayerSpan,
  softcap: number | null,
): string {
  const { g, o } = ctx;
  const group = o.numHeads / o.numKvHeads;
  const d = o.headDim;
  const kv = kvNames(span.layer);

  const cache = (name: string, x: string, past: string) => {
    const split = g.op('Reshape', `${path}/${name}/Reshape`, [x, g.int64([0, 0, o.numKvHeads, d])]);
    const heads = g.op('Transpose', `${path}/${name}/Transpose`, [split], { perm: [0, 2, 1, 3] });
    const before = g.op('Slice', `${path}/${name}/Slice`, [
      past,
      g.int64([0]),
      pastLength(ctx),
      g.int64([2]),
    ]);
    return g.op('Concat', `${path}/${name}/Concat`, [before, heads], { axis: 2 });
  };
  const keys = cache('k_cache', k, kv.pastKey);
  const values = cache('v_cache', v, kv.pastValue);

  const scaled = g.op('Mul', `${path}/q_scale/Mul`, [q, g.float(o.attentionScale)]);
  const qSplit = g.op('Reshape', `${path}/q_heads/Reshape`, [
    scaled,
    g.int64([0, 0, o.numKvHeads, group, d]),
  ]);
  const qHeads = g.op('Transpose', `${path}/q_heads/Transpose`, [qSplit], { perm: [0, 2, 1, 3, 4] });
  const queries = g.op('Reshape', `${path}/q_heads/Merge`, [qHeads, g.int64([0, 0, -1, d])]);

  const keysT = g.op('Transpose', `${path}/scores/Transpose`, [keys], { perm: [0, 1, 3, 2] });
  const raw = g.op('MatMul', `${path}/scores/MatMul`, [queries, keysT]);
  const scores = softcap ? capped(ctx, `${path}/scores/softcap`, raw, softcap) : raw;
  const masked = g.op('Where', `${path}/scores/Where`, [
    attentionMask(ctx, span.window),
    scores,
    g.float(-Infinity),
  ]);
  const probs = g.op('Softmax', `${path}/probs/Softmax`, [masked], { axis: -1 });
  const mixed = g.op('MatMul', `${path}/context/MatMul`, [probs, values]);
  const split = g.op('Reshape', `${path}/context/Reshape`, [mixed, g.int64([0, 0, -1, group, d])]);
  return g.op('Transpose', `${path}/context/Transpose`, [split], { perm: [0, 2, 1, 3, 4] });
}

/** cap · tanh(x / cap), as GroupQueryAttention's `softcap` applies it: after the scale, before the mask. */
function capped(ctx: BuildContext, path: string, x: string, cap: number): string {
  const { g } = ctx;
  const c = g.float(cap);
  const tanh = g.op('Tanh', `${path}/Tanh`, [g.op('Div', `${path}/Div`, [x, c])]);
  return g.op('Mul', `${path}/Mul`, [tanh, c]);
}

/** total_sequence_length - seq as a 1-D int64 [1]: the valid slots of the past. */
function pastLength(ctx: BuildContext): string {
  const { g } = ctx;
  return ctx.shared('past-length', () => {
    const total = g.op('Reshape', '/model/past_length/Reshape', [totalScalar(ctx), g.int64([1])]);
    const seq = g.op('Shape', '/model/past_length/Shape', [GRAPH_INPUTS.inputIds], { start: 1, end: 2 });
    return g.op('Sub', '/model/past_length/Sub', [total, seq]);
  });
}

function totalScalar(ctx: BuildContext): string {
  const { g } = ctx;
  return ctx.shared('total-scalar', () =>
    g.op('Cast', '/model/total_length/Cast', [GRAPH_INPUTS.totalSequenceLength], { to: 7 }),
  );
}

/**
 * [batch, 1, seq·group, total]: may the query row see key slot j (j <= its position, and
 * position - j < window when there is one). Rows follow the queries' (position, head in group) order.
 */
function attentionMask(ctx: BuildContext, window: number | null): string {
  const { g, o } = ctx;
  const group = o.numHeads / o.numKvHeads;
  const queryPositions = ctx.shared('mask-positions', () => {
    const p = '/model/attention_mask/positions';
    const pos = g.op('Unsqueeze', `${p}/Unsqueeze`, [GRAPH_INPUTS.positionIds, g.int64([2])]);
    const rows = g.op('Expand', `${p}/Expand`, [pos, g.int64([1, 1, group])]);
    return g.op('Reshape', `${p}/Reshape`, [rows, g.int64([0, 1, -1, 1])]);
  });
  const keySlots = ctx.shared('mask-slots', () =>
    g.op('Range', '/model/attention_mask/slots/Range', [
      g.int64([0], true),
      totalScalar(ctx),
      g.int64([1], true),
    ]),
  );
  const causal = ctx.shared('mask-causal', () =>
    g.op('LessOrEqual', '/model/attention_mask/causal/LessOrEqual', [keySlots, queryPositions]),
  );
  if (window === null) return causal;
  return ctx.shared(`mask-window-${window}`, () => {
    const p = `/model/attention_mask/window_${window}`;
    const behind = g.op('Sub', `${p}/Sub`, [queryPositions, keySlots]);
    const inside = g.op('Less', `${p}/Less`, [behind, g.int64([window], true)]);
    return g.op('And', `${p}/And`, [causal, inside]);
  });
}
