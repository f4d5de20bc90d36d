// A quantizing thread of the pool (quantize-pool.ts): stored weight rows in, codes and scales out.
import { parentPort } from 'node:worker_threads';
import { toFloat32 } from '../checkpoint/dtype';
import type { DType } from '../checkpoint/types';
import { quantizeRows } from './block-quantize';

export interface QuantizeJob {
  readonly id: number;
  readonly dtype: DType;
  readonly bytes: Uint8Array;
  readonly rows: number;
  readonly k: number;
  readonly bits: 4 | 8;
  readonly blockSize: number;
}

const port = parentPort;
if (!port) throw new Error('quantize-worker must run in a worker thread');
port.on('message', (job: QuantizeJob) => {
  try {
    const q = quantizeRows(toFloat32(job.dtype, job.bytes), job.rows, job.k, job.bits, job.blockSize);
    port.postMessage({ id: job.id, codes: q.codes, scales: q.scales }, [
      q.codes.buffer as ArrayBuffer,
      q.scales.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    port.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
