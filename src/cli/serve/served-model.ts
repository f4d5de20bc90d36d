// The model behind `dit-audit serve`: one base on the engine, LoRA adapters registered by name (a
// PEFT folder or a `.pt#INDEX` on this machine, as vLLM takes a path on its own), and one chat
// completion at a time, since a model has one warm session.
import { basename } from 'node:path';
import { classifyCheckpoint } from '../../engine/checkpoint/classify';
import { type CheckpointRef, parseCheckpointRef } from '../../engine/checkpoint/reference';
import { InputError } from '../../engine/checkpoint/types';
import type { PrecisionPreference } from '../../engine/quant/precision';
import type { Engine, ModelHandle } from '../../engine/runtime/engine';
import type { ProviderPreference } from '../../engine/runtime/providers';
import { renderChat } from '../../engine/text/chat-template';
import { generate } from '../../engine/text/generate';
import { logSoftmax, topLogprobs } from '../../engine/text/logprobs';
import { createSampler, type SamplingOptions } from '../../engine/text/sampling';
import { cutAtStopString } from '../../engine/text/stopping';
import { loadTextCodec, type TextCodec } from '../../engine/text/tokenizer';

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  readonly maxTokens: number;
  readonly sampling: SamplingOptions;
  readonly stop: readonly string[];
}

export interface ChatResult {
  readonly text: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly finishReason: 'stop' | 'length';
}

export interface CompleteRequest {
  readonly model: string;
  /** Text (encoded with the model's tokenizer, its special tokens added) or token ids. */
  readonly prompts: readonly (string | readonly number[])[];
  readonly maxTokens: number;
  readonly sampling: SamplingOptions;
  readonly stop: readonly string[];
  /** Stop tokens besides the model's own. */
  readonly stopTokenIds: readonly number[];
  /** Top tokens reported per new token; null: no log-probabilities. */
  readonly logprobs: number | null;
}

/** One new token's log-probability and the `logprobs` most likely tokens at its step. */
export interface StepLogprobs {
  readonly token: number;
  readonly logprob: number;
  readonly top: [number, number][];
}

export interface Continuation {
  readonly text: string;
  /** The new tokens, a final stop token kept. */
  readonly tokens: number[];
  readonly finishReason: 'stop' | 'length';
  readonly steps: StepLogprobs[] | null;
  readonly promptTokens: number;
}

export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
}

export class ServedModel {
  private readonly adapters = new Map<string, CheckpointRef>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly name: string,
    readonly maxPositions: number,
    private readonly model: ModelHandle,
    private readonly codec: TextCodec,
  ) {}

  static async open(
    engine: Engine,
    dir: string,
    options: {
      name?: string;
      provider: ProviderPreference;
      precision?: PrecisionPreference;
      maxPositions: number;
    },
  ): Promise<ServedModel> {
    const codec = await loadTextCodec(dir);
    const model = await engine.open(dir, {
      provider: options.provider,
      precision: options.precision,
      maxPositions: options.maxPositions,
    });
    // The session may hold fewer positions than asked (the model's own limit).
    const positions = Math.min(options.maxPositions, model.info.maxPositions);
    return new ServedModel(options.name ?? basename(dir), positions, model, codec);
  }

  get provider(): string {
    return this.model.info.provider.provider;
  }

  /** A token as text, special tokens included (how a completion's log-probabilities name it). */
  tokenText(id: number): string {
    return this.codec.decode([id]);
  }

  /** The base first, then the adapters in the order they were loaded. */
  modelNames(): string[] {
    return [this.name, ...this.adapters.keys()];
  }

  /** Registers an adapter under `name` after checking it is one and that it fits the base. */
  loadAdapter(name: string, path: string): Promise<void> {
    return this.exclusive(async () => {
      if (name === this.name) throw new InputError(`${name} is the base model's name`);
      if (this.adapters.has(name)) throw new InputError(`a LoRA adapter named ${name} is already loaded`);
      const ref = parseCheckpointRef(path);
      const kind = classifyCheckpoint(ref.path).kind;
      if (kind === 'model-folder') throw new InputError(`${path} is a model folder, not a LoRA adapter`);
      await this.model.setAdapters([ref]);
      await this.model.setAdapters([]);
      this.adapters.set(name, ref);
    });
  }

  unloadAdapter(name: string): void {
    if (!this.adapters.delete(name)) throw new UnknownModelError(`no LoRA adapter named ${name} is loaded`);
  }

  chat(request: ChatRequest): Promise<ChatResult> {
    const adapters = this.adaptersOf(request.model);
    return this.exclusive(async () => {
      const input = renderChat(this.codec, request.messages, { enableThinking: false });
      const promptIds = this.codec.encode(input, { addSpecialTokens: false });
      const room = this.maxPositions - promptIds.length;
      if (room <= 0)
        throw new InputError(
          `the prompt is ${promptIds.length} tokens; this model takes ${this.maxPositions}`,
        );
      const maxNewTokens = Math.min(request.maxTokens, room);
      await this.model.setAdapters(adapters);
      const sequence = await this.model.sequence(promptIds.length + maxNewTokens);
      const decode = (ids: readonly number[]) => this.codec.decode(ids, { skipSpecialTokens: true });
      const generation = await generate(sequence, promptIds, {
        maxNewTokens,
        stopTokenIds: this.codec.stopTokenIds,
        sampling: request.sampling,
        stopStrings: request.stop,
        decode,
      }).finally(() => sequence.dispose());
      return {
        text: cutAtStopString(decode(generation.tokens), request.stop),
        promptTokens: promptIds.length,
        completionTokens: generation.tokens.length,
        finishReason: generation.finishReason === 'length' ? 'length' : 'stop',
      };
    });
  }

  /**
   * Continues each prompt. One new token each (a scoring request) is one batched pass over all
   * the prompts; longer continuations run one prompt after another.
   */
  complete(request: CompleteRequest): Promise<Continuation[]> {
    const adapters = this.adaptersOf(request.model);
    return this.exclusive(async () => {
      const rows = request.prompts.map((p) =>
        typeof p === 'string' ? this.codec.encode(p, { addSpecialTokens: true }) : [...p],
      );
      for (const row of rows)
        if (row.length >= this.maxPositions)
          throw new InputError(`a prompt is ${row.length} tokens; this model takes ${this.maxPositions}`);
      const stopTokenIds = [...new Set([...this.codec.stopTokenIds, ...request.stopTokenIds])];
      const decode = (ids: readonly number[]) => this.codec.decode(ids, { skipSpecialTokens: true });
      await this.model.setAdapters(adapters);
      const finish = (
        row: readonly number[],
        tokens: number[],
        rowsLogits: Float32Array[],
        reason: string,
      ) => ({
        text: cutAtStopString(decode(tokens), request.stop),
        tokens,
        finishReason: reason === 'length' ? ('length' as const) : ('stop' as const),
        steps: request.logprobs === null ? null : stepsOf(tokens, rowsLogits, request.logprobs),
        promptTokens: row.length,
      });
      if (request.maxTokens === 1) {
        const vocab = this.model.info.options.vocabSize;
        const logits = await this.model.lastLogits(rows);
        return rows.map((row, i) => {
          const last = logits.subarray(i * vocab, (i + 1) * vocab);
          const token = createSampler(request.sampling)(last, row);
          return finish(row, [token], [last], stopTokenIds.includes(token) ? 'stop' : 'length');
        });
      }
      const out: Continuation[] = [];
      for (const row of rows) {
        const rowsLogits: Float32Array[] = [];
        const sequence = await this.model.sequence(row.length + request.maxTokens);
        const recording = {
          vocabSize: sequence.vocabSize,
          append: async (tokens: readonly number[]) => {
            const logits = await sequence.append(tokens);
            rowsLogits.push(logits);
            return logits;
          },
        };
        const generation = await generate(recording, row, {
          maxNewTokens: Math.min(request.maxTokens, this.maxPositions - row.length),
          stopTokenIds,
          sampling: request.sampling,
          stopStrings: request.stop,
          decode,
        }).finally(() => sequence.dispose());
        out.push(finish(row, generation.tokens, rowsLogits, generation.finishReason));
      }
      return out;
    });
  }

  private adaptersOf(model: string): CheckpointRef[] {
    if (model === this.name) return [];
    const ref = this.adapters.get(model);
    if (!ref)
      throw new UnknownModelError(
        `the model ${model} does not exist (served: ${this.modelNames().join(', ')})`,
      );
    return [ref];
  }

  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Each new token's log-probability and the top ones, from the logits it was chosen from. */
function stepsOf(tokens: readonly number[], logits: readonly Float32Array[], top: number): StepLogprobs[] {
  return tokens.map((token, i) => {
    const lp = logSoftmax(logits[i]);
    return { token, logprob: lp[token], top: topLogprobs(lp, top) };
  });
}
