// The memory-bandwidth floor of decoding: how fast this machine *reads* memory, measured as ORT's
// own ReduceMax over a 1 GiB float32 tensor (native, vectorised, on its intra-op threads). A
// JavaScript loop would measure V8, and a copy (memcpy) also writes, so neither is the floor of a
// matrix-vector product that only reads its weights. The tensor is reduced row by row
// ([ROWS, n / ROWS] along its last axis): ORT splits that across its threads, where a 1-D tensor
// reduced to one scalar runs on one thread (measured here: 34 GB/s on 1 thread or 2 that way,
// 41-46 GB/s on 2 row by row). Bench only: the engine never imports this.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/engine/graph/onnx-builder';

export interface ReadBandwidth {
  readonly threads: number;
  readonly bytes: number;
  readonly bestMs: number;
  readonly runsMs: readonly number[];
  /** Bytes read per second, best run. */
  readonly bytesPerS: number;
}

const ROWS = 4096;

export async function readBandwidth(threads: number, bytes = 1 << 30, runs = 15): Promise<ReadBandwidth> {
  const g = new GraphBuilder();
  g.input('x', 'float32', [ROWS, 'n']);
  g.node('ReduceMax', '/read/ReduceMax', ['x'], { axes: [1], keepdims: 0 }, { outputNames: ['max'] });
  g.output('max', 'float32', [ROWS]);
  const session = await ort.InferenceSession.create(g.toBytes({ '': 17 }), {
    intraOpNumThreads: threads,
    logSeverityLevel: 4,
    extra: { session: { 'intra_op.allow_spinning': '0' } },
  });
  try {
    const data = new Float32Array(bytes / 4);
    for (let i = 0; i < data.length; i += 1024) data[i] = i;
    const x = new ort.Tensor('float32', data, [ROWS, data.length / ROWS]);
    await session.run({ x });
    const runsMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const out = await session.run({ x });
      runsMs.push(performance.now() - t0);
      const maxima = out.max.data as Float32Array;
      if (maxima[ROWS - 1] !== data.length - 1024) throw new Error('read check failed');
    }
    const bestMs = Math.min(...runsMs);
    return { threads, bytes, bestMs, runsMs, bytesPerS: bytes / (bestMs / 1000) };
  } finally {
    await session.release();
  }
}
