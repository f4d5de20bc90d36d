// Attention of standard ONNX ops and onnxruntime's FusedMatMul, over a KV cache laid out slot by
// slot: the past of a layer is fed as [slots, batch·kvHeads, D] (slot-major: a prefix of the
// buffer is the past of every row at once, runtime/kv-layout.ts), and read in place by two matrix
// products that take it as it lies (FusedMatMul's transBatchB reads B as [batch·kvHeads, slots, D]
// by strides). Nothing of the cache's size is copied or written. Per layer:
//
//   q ─► [batch·kvHeads, seq·group, D] ─┬─► · pastᵀ ─► (window) ───┐
//                                       └─► · kᵀ (new) ─► causal ──┴─► Concat ─► Softmax
//   ─┬─► [.. past slots] · past values ─┐
//    └─► [.. new slots]  · v (new)       ─┴─► + ─► [batch, seq, heads·D]
//
// (soft-capping before the masks.) The query heads of one KV head are rows of one product
// (group = heads / kvHeads), so keys and values are never repeated. Slot j holds position j, and
// the new tokens follow at past, past + 1, …. A run with no past is fed one empty slot, masked:
// FusedMatMul's transBatch strides divide by the slot count (onnxruntime 1.30 dies of SIGFPE on 0).
// GroupQueryAttention, fed a read-only past, builds a present copy of each layer's whole buffer on
// every run (zeroed, then filled from the past); this is why the composed attention serves the CPU.
import type { BuildContext, LayerSpan } from './context';
import { GRAPH_INPUTS, kvNames } from './slots';

const MS = 'com.microsoft';

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
  g.input(kv.pastKey, 'float32', ['past_slots', 'batch_kv_heads', 1, d]);
  g.input(kv.pastValue, 'float32', ['past_slots', 'batch_kv_heads', 1, d]);

  // The new tokens' keys and values slot-major too: [batch, seq, kvHeads·D] ─► [seq, batch·kvHeads, 1, D].
  const slotMajor = (name: string, x: string) => {
    const split = g.op('Reshape', `${path}/${name}/Reshape`, [x, g.int64([0, 0, o.numKvHeads, d])]);
    const slots = g.op('Transpose', `${path}/${name}/Transpose`, [split], { perm: [1, 0, 2, 3] });
    return g.op('Reshape', `${path}/${name}/Merge`, [slots, g.int64([0, -1, 1, d])]);
  };
  const newKeys = slotMajor('k_slots', k);
  const newValues = slotMajor('v_slots', v);

  // [batch, seq, heads·D] ─► [batch·kvHeads, 1, group·seq, D]: a KV head's query rows, by head in group then token.
  const qSplit = g.op('Reshape', `${path}/q_heads/Reshape`, [q, g.int64([0, 0, o.numKvHeads, group, d])]);
  const qHeads = g.op('Transpose', `${path}/q_heads/Transpose`, [qSplit], { perm: [0, 2, 3, 1, 4] });
  const rows = g.op('Reshape', `${path}/q_heads/Merge`, [qHeads, rowsShape(ctx)]);

  // rows · slotsᵀ · scale, the slots read as [batch·kvHeads, 1, slots, D]: one pass over the keys.
  const scored = (name: string, keys: string, mask: string) => {
    const raw = g.op(
      'FusedMatMul',
      `${path}/${name}/FusedMatMul`,
      [rows, keys],
      { alpha: { float: o.attentionScale }, transB: 1, transBatchB: 1 },
      MS,
    );
    const capped = softcap ? capScores(ctx, `${path}/${name}/softcap`, raw, softcap) : raw;
    return g.op('Where', `${path}/${name}/Where`, [mask, capped, g.float(-Infinity)]);
  };
  const pastScores = scored('past_scores', kv.pastKey, pastMask(ctx, span.window));
  const newScores = scored('new_scores', newKeys, newMask(ctx, span.window));
  const scores = g.op('Concat', `${path}/scores/Concat`, [pastScores, newScores], { axis: -1 });
  const probs = g.op('Softmax', `${path}/probs/Softmax`, [scores], { axis: -1 });

  // Each query head's probabilities a matrix of its own ([batch·kvHeads, group, seq, slots]), so that
  // a decoded token's is one row: MLAS multiplies a single row by the values as it streams them, where
  // several rows go through a packed copy of the values (Qwen3-0.6B shapes at 2048 slots, both cores:
  // 17.9 ms for 28 layers against 32.1 ms, bench/engine.ts's decode at 2048 follows).
  const slots = pastSlots(ctx);
  const lastAxis = g.int64([-1]);
  const perHead = (name: string, x: string) =>
    g.op('Reshape', `${path}/${name}/Reshape`, [x, g.int64([0, group, -1, 0])]);
  const pastProbs = perHead(
    'probs/past',
    g.op('Slice', `${path}/probs/past/Slice`, [probs, g.int64([0]), slots, lastAxis]),
  );
  const newProbs = perHead(
    'probs/new',
    g.op('Slice', `${path}/probs/new/Slice`, [probs, slots, g.int64([2 ** 53]), lastAxis]),
  );
  const mix = (name: string, p: string, values: string) =>
    g.op('FusedMatMul', `${path}/${name}/FusedMatMul`, [p, values], { transBatchB: 1 }, MS);
  const mixed = g.op('Add', `${path}/context/Add`, [
    mix('context/past', pastProbs, kv.pastValue),
    mix('context/new', newProbs, newValues),
  ]);
  // [batch·kvHeads, group, seq, D] ─► [batch, kvHeads, group, seq, D] ─► [batch, seq, kvHeads, group, D]
  const split = g.op('Reshape', `${path}/context/Reshape`, [mixed, headsShape(ctx)]);
  return g.op('Transpose', `${path}/context/Transpose`, [split], { perm: [0, 3, 1, 2, 4] });
}

/** The new tokens' count, int64 [1]. */
function seqLength(ctx: BuildContext): string {
  return ctx.shared('seq-length', () =>
    ctx.g.op('Shape', '/model/seq_length/Shape', [GRAPH_INPUTS.inputsEmbeds], { start: 1, end: 2 }),
  );
}

/** [-1, 1, group·seq, D]: the query rows of one KV head each. */
function rowsShape(ctx: BuildContext): string {
  const { g, o } = ctx;
  const group = o.numHeads / o.numKvHeads;
  return ctx.shared('rows-shape', () => {
    const p = '/model/attention_rows_shape';
    const count = g.op('Mul', `${p}/Mul`, [seqLength(ctx), g.int64([group])]);
    return g.op('Concat', `${p}/Concat`, [g.int64([-1, 1]), count, g.int64([o.headDim])], { axis: 0 });
  });
}

/** [-1, kvHeads, group, seq, D]: the rows back into their heads. */
function headsShape(ctx: BuildContext): string {
  const { g, o } = ctx;
  const group = o.numHeads / o.numKvHeads;
  return ctx.shared('heads-shape', () =>
    g.op(
      'Concat',
      '/model/attention_heads_shape/Concat',
      [g.int64([-1, o.numKvHeads, group]), seqLength(ctx), g.int64([o.headDim])],
      { axis: 0 },
    ),
  );
}

/** cap · tanh(x / cap), as GroupQueryAttention's `softcap` applies it: after the scale, before the mask. */
function capScores(ctx: BuildContext, path: string, x: string, cap: number): string {
  const { g } = ctx;
  const c = g.float(cap);
  const tanh = g.op('Tanh', `${path}/Tanh`, [g.op('Div', `${path}/Div`, [x, c])]);
  return g.op('Mul', `${path}/Mul`, [tanh, c]);
}

/** The past's slot count, int64 [1]: its length, or 1 when there is none (its one slot masked). */
function pastSlots(ctx: BuildContext): string {
  return ctx.shared('past-slots', () =>
    ctx.g.op('Shape', '/model/past_slots/Shape', [kvNames(0).pastKey], { start: 0, end: 1 }),
  );
}

/** total_sequence_length - seq, int64 [1]: how many past slots hold tokens. */
function pastLength(ctx: BuildContext): string {
  const { g } = ctx;
  return ctx.shared('past-length', () => {
    const total64 = g.op('Cast', '/model/total_length/Cast', [GRAPH_INPUTS.totalSequenceLength], { to: 7 });
    const total = g.op('Reshape', '/model/total_length/Reshape', [total64, g.int64([1])]);
    return g.op('Sub', '/model/past_length/Sub', [total, seqLength(ctx)]);
  });
}

/** 0, 1, … count - 1 as int64 [count]; `count` an int64 [1]. */
function range(ctx: BuildContext, path: string, count: string): string {
  const { g } = ctx;
  const end = g.op('Squeeze', `${path}/Squeeze`, [count, g.int64([0])]);
  return g.op('Range', `${path}/Range`, [g.int64([0], true), end, g.int64([1], true)]);
}

/** [group·seq, 1]: each query row's token among the new ones (rows by head in group, then token). */
function rowTokens(ctx: BuildContext): string {
  const { g, o } = ctx;
  const group = o.numHeads / o.numKvHeads;
  return ctx.shared('row-tokens', () => {
    const p = '/model/attention_mask/row_tokens';
    const rows = g.op('Tile', `${p}/Tile`, [range(ctx, p, seqLength(ctx)), g.int64([group])]);
    return g.op('Unsqueeze', `${p}/Unsqueeze`, [rows, g.int64([1])]);
  });
}

/**
 * [group·seq, slots]: slot j holds a token (j < the past length) and, in a sliding layer, is
 * inside the window of the query at position past + i (past + i - j < window).
 */
function pastMask(ctx: BuildContext, window: number | null): string {
  const { g } = ctx;
  const slots = ctx.shared('past-slot-range', () => range(ctx, '/model/past_slot_range', pastSlots(ctx)));
  const filled = ctx.shared('mask-past', () =>
    g.op('Less', '/model/attention_mask/past/Less', [slots, pastLength(ctx)]),
  );
  if (window === null) return filled;
  return ctx.shared(`mask-past-window-${window}`, () => {
    const p = `/model/attention_mask/past_window_${window}`;
    const positions = g.op('Add', `${p}/positions/Add`, [rowTokens(ctx), pastLength(ctx)]);
    return insideWindow(ctx, p, filled, g.op('Sub', `${p}/Sub`, [positions, slots]), window);
  });
}

/** [group·seq, seq]: query i sees new token t iff t <= i (and i - t < window in a sliding layer). */
function newMask(ctx: BuildContext, window: number | null): string {
  const { g } = ctx;
  const tokens = ctx.shared('new-token-range', () => range(ctx, '/model/new_token_range', seqLength(ctx)));
  const causal = ctx.shared('mask-new', () =>
    g.op('LessOrEqual', '/model/attention_mask/new/LessOrEqual', [tokens, rowTokens(ctx)]),
  );
  if (window === null) return causal;
  return ctx.shared(`mask-new-window-${window}`, () => {
    const p = `/model/attention_mask/new_window_${window}`;
    return insideWindow(ctx, p, causal, g.op('Sub', `${p}/Sub`, [rowTokens(ctx), tokens]), window);
  });
}

/** `visible`, where the key is fewer than `window` positions behind the query (`behind`). */
function insideWindow(
  ctx: BuildContext,
  path: string,
  visible: string,
  behind: string,
  window: number,
): string {
  const { g } = ctx;
  const inside = g.op('Less', `${path}/Less`, [behind, g.int64([window], true)]);
  return g.op('And', `${path}/And`, [visible, inside]);
}
