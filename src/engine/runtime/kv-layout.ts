// How a layer's keys (or values) lie in a KV buffer, per attention kernel (graph/attention-kernel.ts):
// what a run feeds of it, and how the new tokens' rows are written in.
//
//   head-major [batch, kvHeads, capacity, D]: GroupQueryAttention's; every slot is fed, the valid
//     length travels in seqlens_k.
//   slot-major [capacity, batch, kvHeads, D]: the composed attention's; the first `past` slots are
//     one contiguous prefix, fed as they lie ([past, batch·kvHeads, 1, D], no copy) and read whole
//     (no past: one slot of zeros, which the graph masks: it cannot take none).
import type { AttentionKernel } from '../graph/attention-kernel';

const EMPTY = new Float32Array(0);

export interface KvShape {
  readonly numKvHeads: number;
  readonly headDim: number;
}

export interface KvLayout {
  /** The part of a buffer a run continuing at `past` reads, and its dims. */
  feed(
    buffer: Float32Array,
    batch: number,
    capacity: number,
    past: number,
  ): { data: Float32Array; dims: number[] };
  /** New rows [batch, n, kvHeads·D] (the graph's new_key/new_value) into slots past..past+n-1. */
  write(
    buffer: Float32Array,
    rows: Float32Array,
    batch: number,
    n: number,
    past: number,
    capacity: number,
  ): void;
  /** The buffer of a run that starts with no past and keeps nothing: only what the graph is fed. */
  scratch(batch: number, capacity: number): Float32Array;
  /** A batch-1 buffer of `capacity` slots holding the first `length` slots of `old`. */
  grow(old: Float32Array, length: number, oldCapacity: number, capacity: number): Float32Array;
}

export function kvLayout(kernel: AttentionKernel, o: KvShape): KvLayout {
  return kernel === 'composed' ? slotMajor(o) : headMajor(o);
}

function headMajor({ numKvHeads: heads, headDim: d }: KvShape): KvLayout {
  return {
    feed: (buffer, batch, capacity) => ({ data: buffer, dims: [batch, heads, capacity, d] }),
    // GroupQueryAttention checks its past spans the whole sequence, filled or not.
    scratch: (batch, capacity) => new Float32Array(batch * heads * capacity * d),
    write(buffer, rows, batch, n, past, capacity) {
      for (let r = 0; r < batch; r++) {
        for (let i = 0; i < n; i++) {
          for (let h = 0; h < heads; h++) {
            const from = ((r * n + i) * heads + h) * d;
            buffer.set(rows.subarray(from, from + d), ((r * heads + h) * capacity + past + i) * d);
          }
        }
      }
    },
    grow(old, length, oldCapacity, capacity) {
      const next = new Float32Array(heads * capacity * d);
      for (let h = 0; h < heads; h++) {
        const from = h * oldCapacity * d;
        next.set(old.subarray(from, from + length * d), h * capacity * d);
      }
      return next;
    },
  };
}

function slotMajor({ numKvHeads: heads, headDim: d }: KvShape): KvLayout {
  const width = heads * d;
  // Read only, so every layer's keys and values share it.
  let zeros = new Float32Array(0);
  const emptySlot = (batch: number) => {
    if (zeros.length < batch * width) zeros = new Float32Array(batch * width);
    return zeros.subarray(0, batch * width);
  };
  return {
    feed: (buffer, batch, _capacity, past) =>
      past === 0
        ? { data: emptySlot(batch), dims: [1, batch * heads, 1, d] }
        : { data: buffer.subarray(0, past * batch * width), dims: [past, batch * heads, 1, d] },
    scratch: () => EMPTY,
    write(buffer, rows, batch, n, past) {
      for (let r = 0; r < batch; r++) {
        for (let i = 0; i < n; i++) {
          const from = (r * n + i) * width;
          buffer.set(rows.subarray(from, from + width), ((past + i) * batch + r) * width);
        }
      }
    },
    grow(old, length, _oldCapacity, capacity) {
      const next = new Float32Array(capacity * width);
      next.set(old.subarray(0, length * width));
      return next;
    },
  };
}
