// The part of the OpenAI API (and vLLM's LoRA endpoints) that `dit-audit serve` speaks: request
// bodies checked with zod, responses shaped as the `openai` package reads them.
import { z } from 'zod';

const MAX_MESSAGES = 256;
const MAX_CONTENT = 65_536;

/** A message's content: a string, or the array form with text parts only. */
const content = z.union([
  z.string().max(MAX_CONTENT),
  z
    .array(z.object({ type: z.literal('text'), text: z.string().max(MAX_CONTENT) }))
    .max(64)
    .transform((parts) => parts.map((p) => p.text).join('')),
]);

export const ChatCompletionRequest = z.object({
  model: z.string().min(1),
  messages: z
    .array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant']), content }))
    .min(1)
    .max(MAX_MESSAGES),
  max_tokens: z.int().positive().nullish(),
  max_completion_tokens: z.int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.literal(1).nullish(),
  stream: z.literal(false).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

const MAX_PROMPTS = 256;
const MAX_PROMPT_TOKENS = 65_536;
/** vLLM's default `--max-logprobs`. */
export const DEFAULT_MAX_LOGPROBS = 20;

const tokenIds = z.array(z.int().nonnegative()).min(1).max(MAX_PROMPT_TOKENS);

/**
 * The legacy completions endpoint, as vLLM serves it: prompts as text or as token ids, one or
 * many; `logprobs` top tokens per step; vLLM's `stop_token_ids` and `return_tokens_as_token_ids`.
 */
export const CompletionRequest = z.object({
  model: z.string().min(1),
  prompt: z.union([
    z.string().min(1).max(MAX_CONTENT),
    z.array(z.string().min(1).max(MAX_CONTENT)).min(1).max(MAX_PROMPTS),
    tokenIds,
    z.array(tokenIds).min(1).max(MAX_PROMPTS),
  ]),
  max_tokens: z.int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  stop_token_ids: z.array(z.int().nonnegative()).max(64).nullish(),
  logprobs: z.int().min(0).nullish(),
  return_tokens_as_token_ids: z.boolean().nullish(),
  echo: z.literal(false).nullish(),
  n: z.literal(1).nullish(),
  stream: z.literal(false).nullish(),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** The OpenAI completion log-probabilities: per new token, its own and the top ones, keyed by token. */
export interface CompletionLogprobs {
  readonly tokens: string[];
  readonly token_logprobs: number[];
  readonly top_logprobs: Record<string, number>[];
  readonly text_offset: number[];
}

export interface Completion {
  readonly id: string;
  readonly object: 'text_completion';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly {
    readonly index: number;
    readonly text: string;
    readonly finish_reason: 'stop' | 'length';
    readonly logprobs: CompletionLogprobs | null;
  }[];
  readonly usage: {
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly total_tokens: number;
  };
}

/** vLLM's `POST /v1/load_lora_adapter` (with `VLLM_ALLOW_RUNTIME_LORA_UPDATING`). */
export const LoadLoraRequest = z.object({
  lora_name: z.string().min(1).max(256),
  lora_path: z.string().min(1),
});
export const UnloadLoraRequest = z.object({ lora_name: z.string().min(1).max(256) });

export interface ChatCompletion {
  readonly id: string;
  readonly object: 'chat.completion';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly {
    readonly index: 0;
    readonly message: { readonly role: 'assistant'; readonly content: string };
    readonly finish_reason: 'stop' | 'length';
    readonly logprobs: null;
  }[];
  readonly usage: {
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly total_tokens: number;
  };
}

/** OpenAI's error body: the `openai` package turns it into an APIError with this message. */
export function errorBody(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}
