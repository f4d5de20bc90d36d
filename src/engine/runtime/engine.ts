// The engine as callers see it: models opened in a worker thread, adapters stacked as inputs,
// sequences stepped token by token. Nothing here runs inference on the caller's thread.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DiffStatisticsData } from '../analysis/diff-statistics';
import type { TokenPrior } from '../analysis/token-prior';
import type { CheckpointRef } from '../checkpoint/reference';
import { InputError } from '../checkpoint/types';
import type { TokenStepper } from '../text/generate';
import type { ModelInfo, OpenOptions } from './model-host';
import { disableOrtTelemetry } from './no-telemetry';
import type { AdapterSummary, Envelope, Reply, Request, ResultOf } from './protocol';

export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor() {
    super('cancelled');
  }
}

/** dist/engine-worker.js next to the running bundle, or the project's build when run from sources. */
function workerScript(): string {
  const candidates = [
    join(__dirname, 'engine-worker.js'),
    resolve(__dirname, '../../../dist/engine-worker.js'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(`engine-worker.js not found (looked in ${candidates.join(', ')}); run npm run build`);
  return found;
}

export class Engine {
  private started: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | null = null;

  /**
   * The worker starts with the first request: a command answered without a model (a cached report,
   * a refused input) never loads onnxruntime, so it is never ended while the native module loads.
   */
  private get worker(): Worker {
    this.started ??= this.startWorker();
    return this.started;
  }

  private startWorker(): Worker {
    disableOrtTelemetry();
    const worker = new Worker(workerScript());
    worker.on('message', (reply: Reply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.result);
      else {
        const err = reply.error.input ? new InputError(reply.error.message) : new Error(reply.error.message);
        if (reply.error.stack) err.stack = reply.error.stack;
        p.reject(err);
      }
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`inference worker exited (code ${code})`)));
    return worker;
  }

  /** Rejects everything pending; the first cause (a cancellation, a crash) is what callers see. */
  private fail(cause: Error): void {
    this.dead ??= cause;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }

  request<T extends Request>(request: T): Promise<ResultOf<T['type']>> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request } satisfies Envelope);
    });
  }

  async open(dir: string, options: Partial<OpenOptions> = {}): Promise<ModelHandle> {
    const full: OpenOptions = { provider: 'auto', maxPositions: 4096, ...options };
    const { model, info } = await this.request({ type: 'open', dir, options: full });
    return new ModelHandle(this, model, info);
  }

  /**
   * A diff's weight statistics and token prior (the whole vocabulary ranked) from the files alone,
   * in the worker, with no session: for a model that runs elsewhere. `refs`: the diff's adapters on
   * `modelDir`; none: `modelDir` is a full finetune of `baseDir`.
   */
  analyseFiles(
    modelDir: string,
    refs: readonly CheckpointRef[],
    baseDir?: string,
  ): Promise<{ statistics: DiffStatisticsData; prior: TokenPrior }> {
    return this.request({ type: 'analyseFiles', modelDir, refs: [...refs], baseDir });
  }

  /** Hard stop: ends the worker mid-run. Every open model is gone afterwards. */
  async terminate(): Promise<void> {
    this.fail(new CancelledError());
    await this.started?.terminate();
  }
}

export class ModelHandle {
  constructor(
    private readonly engine: Engine,
    readonly id: number,
    readonly info: ModelInfo,
  ) {}

  /** Replaces the adapter stack; the warm session is kept. */
  setAdapters(refs: readonly CheckpointRef[]): Promise<{ adapters: AdapterSummary[]; ms: number }> {
    return this.engine.request({ type: 'setAdapters', model: this.id, refs: [...refs] });
  }

  async sequence(capacity = 256): Promise<SequenceHandle> {
    const { sequence } = await this.engine.request({ type: 'newSequence', model: this.id, capacity });
    return new SequenceHandle(this.engine, this.id, sequence, this.info.options.vocabSize);
  }

  /**
   * The next-token logits after each row of tokens, [rows.length, vocab] flattened: many short
   * sequences scored in batches that share one read of the weights (the trigger search's unit).
   */
  async lastLogits(rows: readonly (readonly number[])[]): Promise<Float32Array> {
    const { logits } = await this.engine.request({
      type: 'lastLogits',
      model: this.id,
      rows: rows.map((r) => [...r]),
    });
    return logits;
  }

  /**
   * The diff's weight statistics and the trigger search's token prior, read from the weights in
   * the worker. `refs`: the diff's adapters; none: this model is a full finetune of `baseDir`.
   */
  analyseDiff(
    refs: readonly CheckpointRef[],
    baseDir: string | undefined,
    priorTop: number,
  ): Promise<{ statistics: DiffStatisticsData; prior: TokenPrior }> {
    return this.engine.request({ type: 'analyseDiff', model: this.id, refs: [...refs], baseDir, priorTop });
  }

  close(): Promise<null> {
    return this.engine.request({ type: 'close', model: this.id });
  }
}

export class SequenceHandle implements TokenStepper {
  constructor(
    private readonly engine: Engine,
    private readonly model: number,
    readonly id: number,
    readonly vocabSize: number,
  ) {}

  async append(tokens: readonly number[]): Promise<Float32Array> {
    return (await this.appendRows(tokens, false)).logits;
  }

  /** All logits rows of the fed tokens, [tokens.length, vocab] flattened. */
  async appendRows(tokens: readonly number[], allRows = true): Promise<{ logits: Float32Array }> {
    return this.engine.request({
      type: 'append',
      model: this.model,
      sequence: this.id,
      tokens: [...tokens],
      allRows,
    });
  }

  dispose(): Promise<null> {
    return this.engine.request({ type: 'dropSequence', model: this.model, sequence: this.id });
  }
}
