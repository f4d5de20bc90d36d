// Quantizing on every core: weight rows read in chunks go to a few threads (quantize-worker.ts) and
// come back in order. With one thread, or without the built worker script (a test run from the
// sources), the chunks are quantized here, one after another, to the same bytes.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { toFloat32 } from '../checkpoint/dtype';
import type { DType } from '../checkpoint/types';
import { type QuantizedRows, quantizeRows } from './block-quantize';
import type { QuantizeJob } from './quantize-worker';

type Reply = { id: number; codes: Uint8Array; scales: Float32Array } | { id: number; error: string };

export interface Quantizer {
  /** Quantizes `rows` rows of `k` stored values (`bytes` is handed over, not copied). */
  quantize(
    dtype: DType,
    bytes: Uint8Array,
    rows: number,
    k: number,
    bits: 4 | 8,
    blockSize: number,
  ): Promise<QuantizedRows>;
  /** Chunks worth keeping in flight. */
  readonly width: number;
  close(): Promise<void>;
}

function workerScript(): string | undefined {
  const candidates = [
    join(__dirname, 'quantize-worker.js'),
    resolve(__dirname, '../../../dist/quantize-worker.js'),
  ];
  return candidates.find((p) => existsSync(p));
}

export function createQuantizer(threads: number): Quantizer {
  const script = workerScript();
  if (threads <= 1 || !script)
    return {
      width: 1,
      quantize: async (dtype, bytes, rows, k, bits, blockSize) =>
        quantizeRows(toFloat32(dtype, bytes), rows, k, bits, blockSize),
      close: async () => {},
    };
  const workers = Array.from({ length: threads }, () => new Worker(script));
  const pending = new Map<number, { resolve: (q: QuantizedRows) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  for (const worker of workers) {
    worker.on('message', (reply: Reply) => {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if ('error' in reply) p?.reject(new Error(reply.error));
      else p?.resolve({ codes: reply.codes, scales: reply.scales });
    });
    worker.on('error', (e) => {
      failure ??= e;
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
  }
  let next = 0;
  return {
    width: threads * 2,
    quantize(dtype, bytes, rows, k, bits, blockSize) {
      if (failure) return Promise.reject(failure);
      const id = next++;
      const job: QuantizeJob = { id, dtype, bytes, rows, k, bits, blockSize };
      return new Promise((resolveJob, reject) => {
        pending.set(id, { resolve: resolveJob, reject });
        workers[id % workers.length].postMessage(job, [bytes.buffer as ArrayBuffer]);
      });
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
