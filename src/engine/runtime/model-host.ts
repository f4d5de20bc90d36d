// Lives in the inference worker: one warm session per base checkpoint, the current adapter stack
// as slot inputs, and sequences that own their KV caches.
import { dirname } from 'node:path';
import { InputError, type LoraAdapter } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { buildModel } from '../graph/build-model';
import { GRAPH_INPUTS, kvNames, LOGITS } from '../graph/slots';
import { AdapterCache } from './adapter-cache';
import { loadCheckpoint } from './load-model';
import { loraFeeds } from './lora-feeds';
import {
  createOrtModel,
  type FeedSpec,
  type OrtModel,
  type ProviderChoice,
  type ProviderPreference,
} from './ort-session';

export interface OpenOptions {
  readonly provider: ProviderPreference;
  /** Longest sequence a session supports (RoPE tables are built for it). */
  readonly maxPositions: number;
  readonly threads?: number;
}

export interface ModelInfo {
  readonly dir: string;
  readonly options: ModelOptions;
  readonly provider: ProviderChoice;
  readonly timings: { readonly buildMs: number; readonly sessionMs: number };
  readonly maxPositions: number;
}

interface Sequence {
  length: number;
  capacity: number;
  kv: { key: Float32Array; value: Float32Array }[];
}

export class ModelHost {
  private adapterFeeds: FeedSpec[];
  private readonly adapterCache = new AdapterCache();
  private readonly sequences = new Map<number, Sequence>();
  private nextSequence = 1;

  private constructor(
    readonly info: ModelInfo,
    private readonly ort: OrtModel,
  ) {
    this.adapterFeeds = loraFeeds([], info.options);
  }

  static async open(dir: string, opts: OpenOptions): Promise<ModelHost> {
    const t0 = performance.now();
    const checkpoint = await loadCheckpoint(dir);
    const maxPositions = Math.min(opts.maxPositions, checkpoint.options.maxPositionEmbeddings);
    const built = buildModel(checkpoint.options, checkpoint.tensors, maxPositions);
    const folders = new Set([...built.externalFiles.values()].map((f) => dirname(f)));
    if (folders.size !== 1) throw new InputError(`the weights of ${dir} are spread over several folders`);
    const t1 = performance.now();
    const ort = await createOrtModel({
      onnx: built.onnx,
      externalDataFolder: [...folders][0],
      provider: opts.provider,
      threads: opts.threads,
    });
    const t2 = performance.now();
    return new ModelHost(
      {
        dir,
        options: checkpoint.options,
        provider: ort.choice,
        timings: { buildMs: t1 - t0, sessionMs: t2 - t1 },
        maxPositions,
      },
      ort,
    );
  }

  /** Replaces the adapter stack (in order). Inputs change; the session stays. */
  async setAdapters(specs: readonly string[]): Promise<LoraAdapter[]> {
    const adapters = await Promise.all(specs.map((s) => this.adapterCache.get(s)));
    this.adapterFeeds = loraFeeds(adapters, this.info.options);
    return adapters;
  }

  newSequence(capacity: number): number {
    const o = this.info.options;
    const cap = Math.max(1, Math.min(capacity, this.info.maxPositions));
    const size = o.numKvHeads * cap * o.headDim;
    const kv = Array.from({ length: o.numLayers }, () => ({
      key: new Float32Array(size),
      value: new Float32Array(size),
    }));
    const id = this.nextSequence++;
    this.sequences.set(id, { length: 0, capacity: cap, kv });
    return id;
  }

  dropSequence(id: number): void {
    this.sequences.delete(id);
  }

  /** Feeds tokens to a sequence; returns logits rows ([n, vocab] flattened) for all or the last position. */
  async append(id: number, tokens: readonly number[], allRows: boolean): Promise<Float32Array> {
    const seq = this.sequences.get(id);
    if (!seq) throw new Error(`no sequence ${id}`);
    const o = this.info.options;
    if (tokens.length === 0) throw new InputError('nothing to append: no tokens');
    const bad = tokens.find((t) => !Number.isInteger(t) || t < 0 || t >= o.vocabSize);
    if (bad !== undefined)
      throw new InputError(`token id ${bad} is outside the vocabulary (0..${o.vocabSize - 1})`);
    const total = seq.length + tokens.length;
    if (total > this.info.maxPositions) {
      throw new InputError(
        `sequence of ${total} tokens exceeds the session's ${this.info.maxPositions} positions`,
      );
    }
    if (total > seq.capacity)
      grow(seq, Math.min(this.info.maxPositions, Math.max(total, seq.capacity * 2)), o);

    const n = tokens.length;
    const feeds: FeedSpec[] = [
      { name: GRAPH_INPUTS.inputIds, type: 'int64', data: BigInt64Array.from(tokens, BigInt), dims: [1, n] },
      {
        name: GRAPH_INPUTS.positionIds,
        type: 'int64',
        data: BigInt64Array.from({ length: n }, (_, i) => BigInt(seq.length + i)),
        dims: [1, n],
      },
      { name: GRAPH_INPUTS.seqlensK, type: 'int32', data: Int32Array.of(total - 1), dims: [1] },
      { name: GRAPH_INPUTS.totalSequenceLength, type: 'int32', data: Int32Array.of(total), dims: [] },
      ...this.adapterFeeds,
    ];
    const preallocated = new Map<string, FeedSpec>();
    const kvDims = [1, o.numKvHeads, seq.capacity, o.headDim];
    seq.kv.forEach((buf, layer) => {
      const names = kvNames(layer);
      const key: FeedSpec = { name: names.pastKey, type: 'float32', data: buf.key, dims: kvDims };
      const value: FeedSpec = { name: names.pastValue, type: 'float32', data: buf.value, dims: kvDims };
      feeds.push(key, value);
      preallocated.set(names.presentKey, key);
      preallocated.set(names.presentValue, value);
    });
    const out = await this.ort.run(feeds, preallocated, [LOGITS]);
    seq.length = total;
    const logits = out.get(LOGITS)?.data;
    if (!logits) throw new Error('the model returned no logits');
    return allRows ? logits.slice() : logits.slice((n - 1) * o.vocabSize, n * o.vocabSize);
  }

  async close(): Promise<void> {
    this.sequences.clear();
    await this.ort.release();
  }
}

/** Moves a sequence's KV cache into larger buffers ([1, heads, capacity, headDim] per layer). */
function grow(seq: Sequence, capacity: number, o: ModelOptions): void {
  const copy = (old: Float32Array) => {
    const next = new Float32Array(o.numKvHeads * capacity * o.headDim);
    for (let h = 0; h < o.numKvHeads; h++) {
      const from = h * seq.capacity * o.headDim;
      next.set(old.subarray(from, from + seq.length * o.headDim), h * capacity * o.headDim);
    }
    return next;
  };
  seq.kv = seq.kv.map((b) => ({ key: copy(b.key), value: copy(b.value) }));
  seq.capacity = capacity;
}
