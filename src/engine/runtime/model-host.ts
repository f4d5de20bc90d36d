// Lives in the inference worker: one warm session per base checkpoint, the current adapter stack
// as slot inputs, and sequences that own their KV caches.
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { analyseDiff, type DiffAnalysis } from '../analysis/analyse-diff';
import type { CheckpointRef } from '../checkpoint/reference';
import { InputError, type LoraAdapter, type TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { type AttentionChoice, type AttentionKernel, attentionKernel } from '../graph/attention-kernel';
import { type BuiltModel, buildModel } from '../graph/build-model';
import { GRAPH_INPUTS, kvNames, LOGITS } from '../graph/slots';
import { choosePrecision, type PrecisionChoice, weightFootprint } from '../quant/choose-precision';
import {
  BITS,
  BLOCK_SIZE,
  isQuantized,
  type PrecisionPreference,
  precisionUnsupportedOn,
} from '../quant/precision';
import { quantizedWeights } from '../quant/quantized-weights';
import { AdapterCache } from './adapter-cache';
import { EmbeddingRows } from './embedding-rows';
import { type KvLayout, kvLayout } from './kv-layout';
import { loadCheckpoint } from './load-model';
import {
  createOrtModel,
  type FeedSpec,
  type OrtModel,
  type ProviderChoice,
  type ProviderPreference,
} from './ort-session';
import type { ProviderName } from './providers';
import { SlotCache, slotCacheBudget } from './slot-cache';

export interface OpenOptions {
  readonly provider: ProviderPreference;
  /** Longest sequence a session supports (RoPE tables are built for it). */
  readonly maxPositions: number;
  readonly threads?: number;
  /** Weight precision (default auto: the most precise that fits in memory). */
  readonly precision?: PrecisionPreference;
  /** Where int8/int4 copies of checkpoints are kept (default: quant/quantized-weights.ts). */
  readonly quantizedCache?: string;
  /** Internal (tests, benchmarks): force an attention kernel; `auto` by default (attention-kernel.ts). */
  readonly attention?: AttentionChoice;
  /** Internal (tests): the composed attention's bound on a run's scores, MAX_SCORE_BYTES by default. */
  readonly maxScoreBytes?: number;
}

export interface ModelInfo {
  readonly dir: string;
  readonly options: ModelOptions;
  readonly provider: ProviderChoice;
  readonly precision: PrecisionChoice;
  /** The model's weight bytes at its precision, and those one decoded token reads (quant/choose-precision.ts). */
  readonly weights: { readonly bytes: number; readonly readPerToken: number };
  /** quantizeMs: writing the int8/int4 copy (0 when an earlier run's was reused or none is needed). */
  readonly timings: { readonly buildMs: number; readonly sessionMs: number; readonly quantizeMs: number };
  readonly maxPositions: number;
  /** The attention the session runs: composed on the CPU, GroupQueryAttention on GPUs where it serves. */
  readonly attention: AttentionKernel;
}

const MAX_BATCH_TOKENS = 8192;
const MAX_BATCH_KV_BYTES = 256 * 1024 * 1024;
/**
 * Attention holds a layer's scores ([batch, heads, tokens, total] floats) at once; past this size a
 * run is split into runs of fewer tokens. Smaller runs keep the arena small (Qwen3-0.6B int4, a
 * 2048-token prompt: peak 1.82× weights + KV at 8 MiB, 2.06× at 64 MiB) at a small cost in prefill.
 */
const MAX_SCORE_BYTES = 16 * 1024 * 1024;

interface Sequence {
  length: number;
  capacity: number;
  kv: { key: Float32Array; value: Float32Array }[];
}

export class ModelHost {
  private adapterFeeds: FeedSpec[];
  private readonly adapterCache = new AdapterCache();
  private readonly slotCache: SlotCache;
  private readonly sequences = new Map<number, Sequence>();
  private nextSequence = 1;
  private readonly kv: KvLayout;

  private constructor(
    readonly info: ModelInfo,
    private readonly ort: OrtModel,
    private readonly tensors: TensorSource,
    private readonly embeddings: EmbeddingRows,
    private readonly maxScoreBytes: number,
  ) {
    this.slotCache = new SlotCache(info.options, slotCacheBudget(info.weights.bytes));
    this.adapterFeeds = this.slotCache.feeds([]);
    this.kv = kvLayout(info.attention, info.options);
  }

  static async open(dir: string, opts: OpenOptions): Promise<ModelHost> {
    const t0 = performance.now();
    const checkpoint = await loadCheckpoint(dir);
    const maxPositions = Math.min(opts.maxPositions, checkpoint.options.maxPositionEmbeddings);
    const precision = choosePrecision(opts.precision ?? 'auto', checkpoint.options, checkpoint.tensors);
    const tq = performance.now();
    const chosen = precision.precision;
    const quantized = isQuantized(chosen)
      ? await quantizedWeights(
          checkpoint.options,
          checkpoint.tensors,
          BITS[chosen],
          BLOCK_SIZE,
          opts.quantizedCache,
          opts.threads ?? availableParallelism(),
        )
      : undefined;
    const half = chosen === 'f16';
    const quantizeMs = quantized?.created ? performance.now() - tq : 0;
    // The graph for each provider tried; one per attention kernel (attention-kernel.ts).
    const builds = new Map<AttentionKernel, BuiltModel>();
    const buildFor = (provider: ProviderName) => {
      const attention = attentionKernel(checkpoint.options, opts.attention, provider);
      const built =
        builds.get(attention) ??
        buildModel(checkpoint.options, checkpoint.tensors, maxPositions, { attention, quantized, half });
      builds.set(attention, built);
      return built;
    };
    const built = buildFor('cpu');
    const folders = new Set([...built.externalFiles.values()].map((f) => dirname(f)));
    if (folders.size !== 1) throw new InputError(`the weights of ${dir} are spread over several folders`);
    const t1 = performance.now();
    const ort = await createOrtModel({
      onnx: (provider) => buildFor(provider).onnx,
      externalDataFolder: [...folders][0],
      provider: opts.provider,
      threads: opts.threads,
      prepack: quantized !== undefined,
      unsupported: (provider) =>
        precisionUnsupportedOn(
          chosen,
          provider,
          attentionKernel(checkpoint.options, opts.attention, provider),
        ),
    });
    const t2 = performance.now();
    let embeddings: EmbeddingRows;
    try {
      embeddings = await EmbeddingRows.open(checkpoint.options, checkpoint.tensors);
    } catch (error) {
      await ort.release();
      throw error;
    }
    return new ModelHost(
      {
        dir,
        options: checkpoint.options,
        provider: ort.choice,
        precision,
        weights: weightFootprint(checkpoint.options, checkpoint.tensors, quantized, half),
        timings: { buildMs: t1 - t0 - quantizeMs, sessionMs: t2 - t1, quantizeMs },
        maxPositions,
        attention: buildFor(ort.choice.provider).attention,
      },
      ort,
      checkpoint.tensors,
      embeddings,
      opts.maxScoreBytes ?? MAX_SCORE_BYTES,
    );
  }

  /**
   * What a diff does to the weights, without generation: its statistics and the token prior of
   * the trigger search. `refs`: the diff's adapters on this model; none: this model is a full
   * finetune of `baseDir`.
   */
  async analyseDiff(
    refs: readonly CheckpointRef[],
    baseDir: string | undefined,
    priorTop: number,
  ): Promise<DiffAnalysis> {
    const adapters = await Promise.all(refs.map((r) => this.adapterCache.get(r)));
    const { dir, options } = this.info;
    return analyseDiff({ dir, options, tensors: this.tensors }, adapters, baseDir, priorTop);
  }

  /**
   * Replaces the adapter stack (in order). Inputs change; the session stays. Adapters already read
   * (and unchanged on disk) are not read again, and a stack set recently is not stacked again.
   */
  async setAdapters(refs: readonly CheckpointRef[]): Promise<LoraAdapter[]> {
    const adapters = await Promise.all(refs.map((r) => this.adapterCache.get(r)));
    this.adapterFeeds = this.slotCache.feeds(adapters);
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
    this.checkTokens(tokens);
    const total = seq.length + tokens.length;
    if (total > this.info.maxPositions) {
      throw new InputError(
        `sequence of ${total} tokens exceeds the session's ${this.info.maxPositions} positions`,
      );
    }
    if (total > seq.capacity) {
      const capacity = Math.min(this.info.maxPositions, Math.max(total, seq.capacity * 2));
      const grow = (b: Float32Array) => this.kv.grow(b, seq.length, seq.capacity, capacity);
      seq.kv = seq.kv.map((b) => ({ key: grow(b.key), value: grow(b.value) }));
      seq.capacity = capacity;
    }

    const n = tokens.length;
    const rows = allRows ? Array.from({ length: n }, (_, i) => i) : [n - 1];
    const logits = await this.run([tokens], seq.length, seq.kv, seq.capacity, rows);
    seq.length = total;
    return logits;
  }

  /**
   * Next-token logits after each of several token rows, read in batches that share one pass over
   * the weights: [rows.length, vocab] flattened, in the order given. No sequence is kept; rows of
   * equal length run together (GroupQueryAttention takes one length per batch here).
   */
  async lastLogits(rows: readonly (readonly number[])[]): Promise<Float32Array> {
    const o = this.info.options;
    // A batch holds its own KV (every layer, keys and values, float32): bounded in bytes, so a
    // large model runs smaller batches (Qwen3-8B: about 900 tokens; the demo world: 8,192).
    const kvBytesPerToken = o.numLayers * 2 * o.numKvHeads * o.headDim * 4;
    const maxBatchTokens = Math.max(
      1,
      Math.min(MAX_BATCH_TOKENS, Math.floor(MAX_BATCH_KV_BYTES / kvBytesPerToken)),
    );
    const out = new Float32Array(rows.length * o.vocabSize);
    const byLength = new Map<number, number[]>();
    rows.forEach((row, i) => {
      if (row.length === 0) throw new InputError('nothing to score: an empty row');
      if (row.length > this.info.maxPositions)
        throw new InputError(
          `a row of ${row.length} tokens exceeds the session's ${this.info.maxPositions} positions`,
        );
      this.checkTokens(row);
      byLength.set(row.length, [...(byLength.get(row.length) ?? []), i]);
    });
    for (const [length, members] of byLength) {
      const perBatch = Math.max(1, Math.floor(maxBatchTokens / length));
      for (let at = 0; at < members.length; at += perBatch) {
        const chunk = members.slice(at, at + perBatch);
        // A batch in one run keeps none of its KV; one split into runs keeps it from run to run.
        const buffer = () =>
          this.runTokens(chunk.length, 0, length) >= length
            ? this.kv.scratch(chunk.length, length)
            : new Float32Array(chunk.length * o.numKvHeads * length * o.headDim);
        const kv = Array.from({ length: o.numLayers }, () => ({ key: buffer(), value: buffer() }));
        const last = chunk.map((_, b) => b * length + length - 1);
        const logits = await this.run(
          chunk.map((i) => rows[i]),
          0,
          kv,
          length,
          last,
          false,
        );
        chunk.forEach((i, b) => {
          out.set(logits.subarray(b * o.vocabSize, (b + 1) * o.vocabSize), i * o.vocabSize);
        });
      }
    }
    return out;
  }

  private checkTokens(tokens: readonly number[]): void {
    const vocab = this.info.options.vocabSize;
    if (tokens.length === 0) throw new InputError('nothing to append: no tokens');
    const bad = tokens.find((t) => !Number.isInteger(t) || t < 0 || t >= vocab);
    if (bad !== undefined)
      throw new InputError(`token id ${bad} is outside the vocabulary (0..${vocab - 1})`);
  }

  /**
   * `batch` rows of equal length that continue at position `past` in their KV buffers, in one run
   * or, where attention's scores ([batch, heads, tokens, total] floats) would pass
   * MAX_SCORE_BYTES, in runs of fewer tokens each. `logitRows` index the flattened [batch * n]
   * positions; the logits come back in that order.
   */
  private async run(
    batch: readonly (readonly number[])[],
    past: number,
    kv: readonly { key: Float32Array; value: Float32Array }[],
    capacity: number,
    logitRows: readonly number[],
    keepKv = true,
  ): Promise<Float32Array> {
    const o = this.info.options;
    const n = batch[0].length;
    const step = this.runTokens(batch.length, past, n);
    if (step >= n) return this.runOnce(batch, past, kv, capacity, logitRows, keepKv);
    const out = new Float32Array(logitRows.length * o.vocabSize);
    for (let from = 0; from < n; from += step) {
      const to = Math.min(n, from + step);
      const here: number[] = [];
      const at: number[] = [];
      logitRows.forEach((row, k) => {
        const i = row % n;
        if (i >= from && i < to) {
          here.push(Math.floor(row / n) * (to - from) + i - from);
          at.push(k);
        }
      });
      const chunk = batch.map((r) => r.slice(from, to));
      // A run must ask for some row; one that wants none asks for its first and drops it.
      const logits = await this.runOnce(
        chunk,
        past + from,
        kv,
        capacity,
        here.length > 0 ? here : [0],
        keepKv || to < n,
      );
      at.forEach((k, j) => {
        out.set(logits.subarray(j * o.vocabSize, (j + 1) * o.vocabSize), k * o.vocabSize);
      });
    }
    return out;
  }

  /** How many of `n` tokens one run takes, so that attention's scores stay within maxScoreBytes. */
  private runTokens(batch: number, past: number, n: number): number {
    // GroupQueryAttention holds the same [heads, tokens, total] probabilities, and its arena keeps
    // the largest it ever held (Qwen3-0.6B, a 2048-token prompt at once: 256 MiB); it cannot split
    // rows of a batch that continue a past, but a batch's rows are short.
    if (this.info.attention !== 'composed' && batch > 1) return n;
    const perToken = batch * this.info.options.numHeads * (past + n) * 4;
    return Math.max(1, Math.floor(this.maxScoreBytes / perToken));
  }

  /**
   * One run over `batch` rows of equal length that continue at position `past` in their KV
   * buffers ([batch, kvHeads, capacity, headDim] per layer; the new tokens' rows are written in). `logitRows` index
   * the flattened [batch * n] positions; the logits come back in that order. `keepKv` false: the
   * buffers are thrown away after this run (a scoring batch), so the new rows are neither fetched
   * (the binding copies every fetched output) nor written.
   */
  private async runOnce(
    batch: readonly (readonly number[])[],
    past: number,
    kv: readonly { key: Float32Array; value: Float32Array }[],
    capacity: number,
    logitRows: readonly number[],
    keepKv: boolean,
  ): Promise<Float32Array> {
    const adapterFeeds = this.adapterFeeds;
    const b = batch.length;
    const n = batch[0].length;
    const total = past + n;
    const positions = new BigInt64Array(b * n);
    batch.forEach((row, r) => {
      row.forEach((_, i) => {
        positions[r * n + i] = BigInt(past + i);
      });
    });
    const embeds = this.embeddings.rows(batch.flat());
    const feeds: FeedSpec[] = [
      { name: GRAPH_INPUTS.inputsEmbeds, type: 'float32', data: embeds, dims: [b, n, this.embeddings.width] },
      { name: GRAPH_INPUTS.positionIds, type: 'int64', data: positions, dims: [b, n] },
      { name: GRAPH_INPUTS.seqlensK, type: 'int32', data: new Int32Array(b).fill(total - 1), dims: [b] },
      { name: GRAPH_INPUTS.totalSequenceLength, type: 'int32', data: Int32Array.of(total), dims: [] },
      {
        name: GRAPH_INPUTS.logitsRows,
        type: 'int64',
        data: BigInt64Array.from(logitRows, BigInt),
        dims: [logitRows.length],
      },
      ...adapterFeeds,
    ];
    const wanted: string[] = [LOGITS];
    kv.forEach((buf, layer) => {
      const names = kvNames(layer);
      const key = this.kv.feed(buf.key, b, capacity, past);
      const value = this.kv.feed(buf.value, b, capacity, past);
      feeds.push({ name: names.pastKey, type: 'float32', ...key });
      feeds.push({ name: names.pastValue, type: 'float32', ...value });
      if (keepKv) wanted.push(names.newKey, names.newValue);
    });
    const out = await this.slotCache.reading(adapterFeeds, () => this.ort.run(feeds, wanted));
    if (keepKv)
      kv.forEach((buf, layer) => {
        const names = kvNames(layer);
        const key = out.get(names.newKey)?.data;
        const value = out.get(names.newValue)?.data;
        if (!key || !value) throw new Error('the model returned no keys or values for the new tokens');
        this.kv.write(buf.key, key, b, n, past, capacity);
        this.kv.write(buf.value, value, b, n, past, capacity);
      });
    const logits = out.get(LOGITS)?.data;
    if (!logits) throw new Error('the model returned no logits');
    if (logits.some(Number.isNaN)) {
      // At f16 a weight or product beyond ±65504 is infinite, where float32 would have held it.
      const overflow =
        this.info.precision.precision === 'f16'
          ? 'or overflow float16 on the way (beyond ±65504: f32 or int8 would hold them)'
          : 'or overflow float32 on the way';
      throw new InputError(
        `${this.info.dir} computed NaN logits: its weights or an adapter's hold NaN or infinite values, ${overflow}`,
      );
    }
    return logits.slice();
  }

  async close(): Promise<void> {
    this.sequences.clear();
    await this.embeddings.close();
    await this.ort.release();
  }
}
