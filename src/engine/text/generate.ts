// The generation loop over any backend that can feed tokens and hand back logits.

import { InputError } from '../checkpoint/types';
import { type ChatRenderOptions, renderUserPrompt } from './chat-template';
import { createSampler, type SamplingOptions } from './sampling';
import { createStoppingCriteria, cutAtStopString, type FinishReason } from './stopping';
import type { TextCodec } from './tokenizer';

/** One sequence with its KV cache, on some backend. */
export interface TokenStepper {
  readonly vocabSize: number;
  /** Feeds tokens (the prompt, then one token per step); resolves to the logits of the last fed position. */
  append(tokens: readonly number[]): Promise<Float32Array>;
  /** Frees the sequence's KV cache; generateFromText calls it when a prompt is done. */
  dispose?(): Promise<unknown>;
}

export interface GenerateOptions {
  readonly maxNewTokens: number;
  readonly stopTokenIds: readonly number[];
  readonly sampling: SamplingOptions;
  readonly stopStrings?: readonly string[];
  /** Needed for `stopStrings`. */
  readonly decode?: (ids: readonly number[]) => string;
  /** Called with each new token as it is chosen (a stop token included). */
  readonly onToken?: (token: number, generated: readonly number[]) => void;
}

export interface Generation {
  /** The new tokens; a final stop token is kept (as transformers does) but never fed back. */
  readonly tokens: number[];
  readonly finishReason: FinishReason;
}

/**
 * Generates after `promptIds`. Cancellation is not an error: when `signal` aborts, generation
 * stops before the next step and resolves with the tokens so far and finishReason 'cancelled'.
 * A step already running on the backend finishes first.
 */
export async function generate(
  stepper: TokenStepper,
  promptIds: readonly number[],
  options: GenerateOptions,
  signal?: AbortSignal,
): Promise<Generation> {
  if (promptIds.length === 0) throw new InputError('Cannot generate from an empty prompt.');
  const sample = createSampler(options.sampling);
  const shouldStop = createStoppingCriteria(options);
  const tokens: number[] = [];
  if (options.maxNewTokens === 0) return { tokens, finishReason: 'length' };
  if (signal?.aborted) return { tokens, finishReason: 'cancelled' };

  const seen = [...promptIds];
  let logits = await stepper.append(promptIds);
  for (;;) {
    if (signal?.aborted) return { tokens, finishReason: 'cancelled' };
    if (logits.length !== stepper.vocabSize) {
      throw new Error(
        `The backend returned ${logits.length} logits for a vocabulary of ${stepper.vocabSize}.`,
      );
    }
    const token = sample(logits, seen);
    tokens.push(token);
    seen.push(token);
    options.onToken?.(token, tokens);
    const reason = shouldStop(tokens);
    if (reason) return { tokens, finishReason: reason };
    if (signal?.aborted) return { tokens, finishReason: 'cancelled' };
    logits = await stepper.append([token]);
  }
}

export interface TextGenerateOptions {
  /** Render each prompt as one user turn of the chat template, or feed it raw. */
  readonly chat: boolean;
  readonly maxNewTokens: number;
  /** Default greedy. A seeded sampler restarts for each prompt, so each is reproducible alone. */
  readonly sampling?: SamplingOptions;
  /** Default: the codec's stop tokens. */
  readonly stopTokenIds?: readonly number[];
  /** The returned text ends before the first of them. */
  readonly stopStrings?: readonly string[];
  readonly chatOptions?: ChatRenderOptions;
  /** Default true. */
  readonly skipSpecialTokens?: boolean;
  readonly onToken?: (promptIndex: number, token: number) => void;
}

export interface TextGeneration extends Generation {
  readonly prompt: string;
  /** The text fed to the model (the rendered chat, or the prompt itself). */
  readonly input: string;
  readonly inputIds: number[];
  readonly text: string;
}

/**
 * Runs each prompt in turn on a fresh stepper. On cancellation the prompts not yet started
 * come back with no tokens and finishReason 'cancelled', so results line up with prompts.
 */
export async function generateFromText(
  codec: TextCodec,
  newStepper: () => Promise<TokenStepper>,
  prompts: readonly string[],
  options: TextGenerateOptions,
  signal?: AbortSignal,
): Promise<TextGeneration[]> {
  const results: TextGeneration[] = [];
  const skipSpecialTokens = options.skipSpecialTokens ?? true;
  const decode = (ids: readonly number[]) => codec.decode(ids, { skipSpecialTokens });
  const stopStrings = options.stopStrings ?? [];
  for (const [index, prompt] of prompts.entries()) {
    const input = options.chat ? renderUserPrompt(codec, prompt, options.chatOptions) : prompt;
    // A chat template writes its own special tokens (Gemma's <bos>), so none are added again.
    const inputIds = codec.encode(input, { addSpecialTokens: !options.chat });
    if (signal?.aborted) {
      results.push({ prompt, input, inputIds, tokens: [], finishReason: 'cancelled', text: '' });
      continue;
    }
    const onToken = options.onToken;
    const stepper = await newStepper();
    const generation = await generate(
      stepper,
      inputIds,
      {
        maxNewTokens: options.maxNewTokens,
        stopTokenIds: options.stopTokenIds ?? codec.stopTokenIds,
        sampling: options.sampling ?? { kind: 'greedy' },
        stopStrings,
        decode,
        onToken: onToken && ((token) => onToken(index, token)),
      },
      signal,
    ).finally(() => stepper.dispose?.());
    const text = cutAtStopString(decode(generation.tokens), stopStrings);
    results.push({ prompt, input, inputIds, ...generation, text });
  }
  return results;
}
