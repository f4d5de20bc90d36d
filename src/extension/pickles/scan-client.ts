// The extension host's side of the pickle-scan worker: one thread, started on the first scan,
// answering each request by id; a crashed worker fails what it had and is started again.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ScanReply } from './scan-protocol';

export type ScanResult = Extract<ScanReply, { ok: true }>;

export class PickleScanClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: ScanResult) => void; reject: (e: Error) => void }
  >();

  /** `dist`: the folder holding pickle-scan-worker.js. */
  constructor(private readonly dist: string) {}

  scan(path: string): Promise<ScanResult> {
    const worker = this.start();
    const id = this.nextId++;
    // Held while it has work, so that a process waiting for an answer does not exit under it.
    worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, path });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(join(this.dist, 'pickle-scan-worker.js'));
    worker.on('message', (reply: ScanReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) waiting.resolve(reply);
      else waiting.reject(new Error(reply.message));
    });
    const fail = (error: Error) => {
      this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the pickle-scan worker stopped (exit ${code})`)));
    this.worker = worker;
    return worker;
  }

  dispose(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }
}
