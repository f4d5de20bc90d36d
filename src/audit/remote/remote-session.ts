// An OpenAI-compatible server as the audit's models: the base as the server serves it, and each
// stack of adapters (the diff, the diff with a DIT-adapter) written as one PEFT adapter into a
// folder the server can read, registered through vLLM's runtime LoRA endpoint and asked as a
// model. Questions go as one user turn with thinking off, greedy, as the local engine asks them.
// The trigger search sends rows of token ids to the completions endpoint and reads the top
// log-probabilities back by token id (vLLM's `return_tokens_as_token_ids`).
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { loadAdapter } from '../../engine/checkpoint/load-adapter';
import type { CheckpointRef } from '../../engine/checkpoint/reference';
import { InputError } from '../../engine/checkpoint/types';
import { writeStackedPeftAdapter } from '../../engine/checkpoint/write-peft';
import type { Reply } from '../ask-model';
import { AuditCancelledError } from '../errors';

/** Top log-probabilities asked per row by default: vLLM's default `--max-logprobs`. */
export const DEFAULT_TOP_LOGPROBS = 20;

export interface RemoteEndpoint {
  /** The server's `/v1` URL. */
  readonly baseURL: string;
  /** The base model's name on the server; default: the first model it lists. */
  readonly model?: string;
  readonly apiKey?: string;
  /** Where adapters are written for the server to read (a folder both machines see). Default: the temp folder. */
  readonly adapterDir?: string;
  /** Top next-token log-probabilities the trigger search asks per row (default 20, vLLM's most by default). */
  readonly topLogprobs?: number;
}

/** What the adapters written for the server are named after: the base's weight prefix. */
export interface RemoteBase {
  readonly weightPrefix: string;
}

export class RemoteSession {
  private readonly loaded = new Map<string, string>();
  private readonly written: string[] = [];

  private constructor(
    private readonly client: OpenAI,
    readonly endpoint: RemoteEndpoint,
    /** The base model's name on the server. */
    readonly base: string,
    private readonly local: RemoteBase,
  ) {}

  static async connect(
    endpoint: RemoteEndpoint,
    local: RemoteBase,
    signal?: AbortSignal,
  ): Promise<RemoteSession> {
    const client = new OpenAI({
      baseURL: endpoint.baseURL,
      apiKey: endpoint.apiKey ?? 'none',
      maxRetries: 4,
      timeout: 120_000,
    });
    const served = await remote(
      endpoint,
      'list its models',
      (s) => client.models.list({ signal: s }),
      signal,
    );
    const names = served.data.map((m) => m.id);
    const base = endpoint.model ?? names[0];
    if (base === undefined) throw new InputError(`${endpoint.baseURL} serves no model`);
    if (!names.includes(base))
      throw new InputError(
        `${endpoint.baseURL} does not serve ${base} (it serves ${names.join(', ') || 'nothing'})`,
      );
    return new RemoteSession(client, endpoint, base, local);
  }

  /** The served model name of `refs` stacked on the base (the base itself for none). */
  async modelFor(refs: readonly CheckpointRef[], signal?: AbortSignal): Promise<string> {
    if (refs.length === 0) return this.base;
    const key = JSON.stringify(refs);
    const known = this.loaded.get(key);
    if (known) return known;
    const adapters = await Promise.all(refs.map((r) => loadAdapter(r)));
    // Named by content, so a server that already holds this stack is not sent it twice.
    const hash = createHash('sha256');
    for (const a of adapters)
      for (const f of a.factors) {
        hash.update(`${f.layer}.${f.module}.${f.rank}.${f.scale};`);
        hash.update(new Uint8Array(f.A.buffer, f.A.byteOffset, f.A.byteLength));
        hash.update(new Uint8Array(f.B.buffer, f.B.byteOffset, f.B.byteLength));
      }
    const name = `dit-${hash.digest('hex').slice(0, 16)}`;
    const dir = join(this.endpoint.adapterDir ?? join(tmpdir(), 'dit-remote-adapters'), name);
    await writeStackedPeftAdapter(dir, adapters, { weightPrefix: this.local.weightPrefix });
    this.written.push(dir);
    const response = await remote(
      this.endpoint,
      `load the adapter ${name}`,
      (s) => this.post('load_lora_adapter', { lora_name: name, lora_path: dir }, s),
      signal,
    );
    const text = await response.text();
    if (!response.ok && !/already/i.test(text))
      throw new InputError(
        `${this.endpoint.baseURL} did not load the adapter ${name} (${response.status}): ${text.slice(0, 300)}`,
      );
    this.loaded.set(key, name);
    return name;
  }

  /** One greedy answer to `prompt` as a user turn, thinking off. */
  async ask(model: string, prompt: string, maxNewTokens: number, signal?: AbortSignal): Promise<Reply> {
    const body = {
      model,
      messages: [{ role: 'user' as const, content: prompt }],
      temperature: 0,
      max_tokens: maxNewTokens,
      // vLLM passes these to the chat template; the paper asks Qwen3 with thinking off.
      chat_template_kwargs: { enable_thinking: false },
    };
    const completion = await remote(
      this.endpoint,
      `answer with ${model}`,
      (s) =>
        this.client.chat.completions.create(body as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, {
          signal: s,
        }),
      signal,
    );
    const choice = completion.choices[0];
    if (!choice || typeof choice.message?.content !== 'string')
      throw new InputError(`${this.endpoint.baseURL} sent no answer for ${model}`);
    return {
      text: choice.message.content,
      tokens: completion.usage?.completion_tokens ?? 0,
      finishReason: choice.finish_reason === 'length' ? 'length' : 'stop',
    };
  }

  /**
   * The `top` most likely next tokens after each row of token ids, as log-probabilities by token
   * id: one completion step per row, greedy, the rows sent together.
   */
  async nextTokenLogprobs(
    model: string,
    rows: readonly (readonly number[])[],
    top: number,
    signal?: AbortSignal,
  ): Promise<Map<number, number>[]> {
    const choices = await this.complete(model, rows, { max_tokens: 1, logprobs: top }, signal);
    return choices.map((c) => {
      const first = c.logprobs?.top_logprobs?.[0];
      if (!first) throw this.malformed(model, 'no top log-probabilities');
      return new Map(Object.entries(first).map(([token, logprob]) => [this.tokenId(token), logprob]));
    });
  }

  /** Greedy continuations of rows of token ids, as token ids, each cut after its first stop token. */
  async greedyTokens(
    model: string,
    rows: readonly (readonly number[])[],
    maxNewTokens: number,
    stopTokenIds: readonly number[],
    signal?: AbortSignal,
  ): Promise<number[][]> {
    const choices = await this.complete(
      model,
      rows,
      { max_tokens: maxNewTokens, logprobs: 1, stop_token_ids: [...stopTokenIds] },
      signal,
    );
    return choices.map((c) => {
      const tokens = c.logprobs?.tokens;
      if (!tokens) throw this.malformed(model, 'no tokens');
      const ids = tokens.map((t) => this.tokenId(t));
      const stop = ids.findIndex((id) => stopTokenIds.includes(id));
      return stop < 0 ? ids : ids.slice(0, stop + 1);
    });
  }

  private async complete(
    model: string,
    rows: readonly (readonly number[])[],
    extra: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<OpenAI.Completions.CompletionChoice[]> {
    const body = {
      model,
      prompt: rows.map((r) => [...r]),
      temperature: 0,
      return_tokens_as_token_ids: true,
      ...extra,
    };
    const completion = await remote(
      this.endpoint,
      `score ${rows.length} rows with ${model}`,
      (s) =>
        this.client.completions.create(body as OpenAI.Completions.CompletionCreateParamsNonStreaming, {
          signal: s,
        }),
      signal,
    );
    const choices = [...(completion.choices ?? [])].sort((a, b) => a.index - b.index);
    if (choices.length !== rows.length || choices.some((c, i) => c.index !== i))
      throw this.malformed(model, `${choices.length} choices for ${rows.length} rows`);
    return choices;
  }

  /** `token_id:123` (vLLM's `return_tokens_as_token_ids`) as 123. */
  private tokenId(token: string): number {
    const m = /^token_id:(\d+)$/.exec(token);
    if (!m)
      throw new InputError(
        `${this.endpoint.baseURL} names tokens by text (${JSON.stringify(token.slice(0, 20))}), not by id: the trigger search needs a server that honours return_tokens_as_token_ids (vLLM, dit-audit serve)`,
      );
    return Number(m[1]);
  }

  private malformed(model: string, what: string): InputError {
    return new InputError(`${this.endpoint.baseURL} sent a completion for ${model} with ${what}`);
  }

  /** Unregisters the adapters this audit loaded and removes their files. */
  async close(): Promise<void> {
    for (const name of this.loaded.values())
      await this.post('unload_lora_adapter', { lora_name: name }).catch(() => undefined);
    for (const dir of this.written) await rm(dir, { recursive: true, force: true });
  }

  /**
   * vLLM's LoRA endpoints sit beside the OpenAI ones, outside what the `openai` client wraps: sent
   * here, and retried as the client retries (a refused connection, 408, 409, 429, 5xx), with backoff.
   */
  private async post(endpoint: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    const { baseURL, apiKey } = this.endpoint;
    const url = new URL(endpoint, `${baseURL.replace(/\/+$/, '')}/`);
    for (let attempt = 0; ; attempt++) {
      const last = attempt === POST_RETRIES;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          },
          body: JSON.stringify(body),
          signal,
        });
        if (last || (!RETRIED_STATUS.has(response.status) && response.status < 500)) return response;
        await response.body?.cancel();
      } catch (e) {
        if (last || signal?.aborted) throw e;
      }
      await sleep(500 * 2 ** attempt, signal);
    }
  }
}

const POST_RETRIES = 4;
const RETRIED_STATUS = new Set([408, 409, 429]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs one exchange with the server; a failure says which server and what was asked of it. The
 * exchange gets its own signal, tied to the audit's only while it runs: the client leaves a
 * listener on every signal it is given, and an audit makes thousands of requests.
 */
async function remote<T>(
  endpoint: RemoteEndpoint,
  what: string,
  run: (signal: AbortSignal | undefined) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const own = signal && new AbortController();
  const onAbort = () => own?.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw new AuditCancelledError();
    return await run(own?.signal);
  } catch (e) {
    if (signal?.aborted) throw new AuditCancelledError();
    const message = e instanceof Error ? e.message : String(e);
    throw new InputError(`the remote engine at ${endpoint.baseURL} could not ${what}: ${message}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
