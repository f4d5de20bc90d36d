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
import type { SamplingOptions } from '../../engine/text/sampling';
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
