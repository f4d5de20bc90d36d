// `dit-audit serve`'s HTTP side: the OpenAI chat-completions, completions and models endpoints and
// vLLM's LoRA loading endpoints, over one ServedModel. Bodies are bounded and checked; every failure is an
// OpenAI-style error body with the status the `openai` package expects.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { z } from 'zod';
import { InputError } from '../../engine/checkpoint/types';
import {
  type ChatCompletion,
  ChatCompletionRequest,
  type Completion,
  type CompletionLogprobs,
  CompletionRequest,
  DEFAULT_MAX_LOGPROBS,
  errorBody,
  LoadLoraRequest,
  UnloadLoraRequest,
} from './openai-protocol';
import { type Continuation, type ServedModel, UnknownModelError } from './served-model';

const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_MAX_TOKENS = 256;
/** OpenAI's default for the completions endpoint. */
const DEFAULT_COMPLETION_TOKENS = 16;

export interface ServeOptions {
  /** When set, every request needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** Most top tokens a completion may ask for per step (vLLM's `--max-logprobs`; default 20). */
  readonly maxLogprobs?: number;
  readonly log?: (line: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export function createOpenAiServer(model: ServedModel, options: ServeOptions = {}): Server {
  return createServer((req, res) => {
    const started = performance.now();
    handle(model, options, req)
      .then(({ status, body }) => send(res, status, body))
      .catch((e: unknown) => {
        const error = asHttpError(e);
        send(res, error.status, errorBody(error.message, error.type, error.code));
      })
      .finally(() =>
        options.log?.(
          `${req.method} ${req.url} ${res.statusCode} ${Math.round(performance.now() - started)} ms`,
        ),
      );
  });
}

async function handle(
  model: ServedModel,
  options: ServeOptions,
  req: IncomingMessage,
): Promise<{ status: number; body: unknown }> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
  if (req.method === 'GET' && path === '/health') return { status: 200, body: { status: 'ok' } };
  if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`)
    throw new HttpError(
      401,
      'a valid API key is needed (Authorization: Bearer …)',
      'authentication_error',
      'invalid_api_key',
    );
  const route = `${req.method} ${path}`;
  switch (route) {
    case 'GET /v1/models':
      return {
        status: 200,
        body: {
          object: 'list',
          data: model
            .modelNames()
            .map((id) => ({ id, object: 'model', created: 0, owned_by: 'dit-auditor' })),
        },
      };
    case 'POST /v1/chat/completions':
      return {
        status: 200,
        body: await chatCompletion(model, parse(ChatCompletionRequest, await readJson(req))),
      };
    case 'POST /v1/completions':
      return {
        status: 200,
        body: await completion(model, parse(CompletionRequest, await readJson(req)), options),
      };
    case 'POST /v1/load_lora_adapter': {
      const { lora_name, lora_path } = parse(LoadLoraRequest, await readJson(req));
      await model.loadAdapter(lora_name, lora_path);
      return { status: 200, body: `Success: LoRA adapter '${lora_name}' added successfully.` };
    }
    case 'POST /v1/unload_lora_adapter': {
      const { lora_name } = parse(UnloadLoraRequest, await readJson(req));
      model.unloadAdapter(lora_name);
      return { status: 200, body: `Success: LoRA adapter '${lora_name}' removed successfully.` };
    }
    default:
      throw new HttpError(404, `no route ${route}`, 'invalid_request_error', 'not_found');
  }
}

async function chatCompletion(model: ServedModel, request: ChatCompletionRequest): Promise<ChatCompletion> {
  const temperature = request.temperature ?? 1;
  const result = await model.chat({
    model: request.model,
    messages: request.messages,
    maxTokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS,
    sampling:
      temperature === 0
        ? { kind: 'greedy' }
        : { kind: 'sample', temperature, topP: request.top_p ?? 1, seed: request.seed ?? 0 },
    stop: request.stop === undefined || request.stop === null ? [] : [request.stop].flat(),
  });
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: result.text },
        finish_reason: result.finishReason,
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: result.promptTokens,
      completion_tokens: result.completionTokens,
      total_tokens: result.promptTokens + result.completionTokens,
    },
  };
}

async function completion(
  model: ServedModel,
  request: CompletionRequest,
  options: ServeOptions,
): Promise<Completion> {
  const maxLogprobs = options.maxLogprobs ?? DEFAULT_MAX_LOGPROBS;
  if ((request.logprobs ?? 0) > maxLogprobs)
    throw new HttpError(
      400,
      `logprobs: ${request.logprobs} is more than this server gives (${maxLogprobs}; serve --max-logprobs)`,
    );
  const temperature = request.temperature ?? 1;
  const prompts =
    typeof request.prompt === 'string'
      ? [request.prompt]
      : request.prompt.every((p) => typeof p === 'number')
        ? [request.prompt as number[]]
        : (request.prompt as (string | number[])[]);
  const continuations = await model.complete({
    model: request.model,
    prompts,
    maxTokens: request.max_tokens ?? DEFAULT_COMPLETION_TOKENS,
    sampling:
      temperature === 0
        ? { kind: 'greedy' }
        : { kind: 'sample', temperature, topP: request.top_p ?? 1, seed: request.seed ?? 0 },
    stop: request.stop === undefined || request.stop === null ? [] : [request.stop].flat(),
    stopTokenIds: request.stop_token_ids ?? [],
    logprobs: request.logprobs ?? null,
  });
  const name = request.return_tokens_as_token_ids
    ? (id: number) => `token_id:${id}`
    : (id: number) => model.tokenText(id);
  const promptTokens = continuations.reduce((n, c) => n + c.promptTokens, 0);
  const completionTokens = continuations.reduce((n, c) => n + c.tokens.length, 0);
  return {
    id: `cmpl-${randomUUID()}`,
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: continuations.map((c, index) => ({
      index,
      text: c.text,
      finish_reason: c.finishReason,
      logprobs: logprobsOf(c, name),
    })),
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

/** As vLLM writes them: each step's top tokens, the chosen one among them even when it ranks lower. */
function logprobsOf(c: Continuation, name: (id: number) => string): CompletionLogprobs | null {
  if (!c.steps) return null;
  let offset = 0;
  const textOffset: number[] = [];
  for (const step of c.steps) {
    textOffset.push(offset);
    offset += name(step.token).length;
  }
  return {
    tokens: c.steps.map((s) => name(s.token)),
    token_logprobs: c.steps.map((s) => s.logprob),
    top_logprobs: c.steps.map((s) =>
      Object.fromEntries([...s.top, [s.token, s.logprob] as const].map(([id, lp]) => [name(id), lp])),
    ),
    text_offset: textOffset,
  };
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

function asHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof UnknownModelError)
    return new HttpError(404, e.message, 'invalid_request_error', 'model_not_found');
  if (e instanceof InputError) return new HttpError(400, e.message);
  return new HttpError(500, e instanceof Error ? e.message : String(e), 'server_error');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
