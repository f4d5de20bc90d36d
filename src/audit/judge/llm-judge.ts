// The LLM judge: any OpenAI-compatible endpoint (the `openai` package: its retries with backoff on
// 429, 5xx and timeouts), temperature 0, the reply parsed for a 1–5 score and asked once more
// when it holds none. Verdicts are cached on disk by (endpoint model, prompts), and the tokens
// spent are counted, so an eval that runs again costs nothing.
import { readFile } from 'node:fs/promises';
import OpenAI from 'openai';
import { z } from 'zod';
import { writeFileAtomic } from '../atomic-write';
import { sha256Hex } from '../hashing';
import {
  GUESS_SYSTEM_PROMPT,
  guessUserPrompt,
  type JudgeKind,
  judgeSystemPrompt,
  judgeUserPrompt,
  parseJudgeScore,
} from './judge-prompts';

export interface JudgeConfig {
  /** `https://api.openai.com/v1`, a vLLM server's `/v1`, `dit-audit serve`'s. */
  readonly baseURL: string;
  readonly model: string;
  readonly apiKey?: string;
  /** Where verdicts are kept between runs; none keeps them for this run only. */
  readonly cacheFile?: string;
  /** Per request (ms); default 60 s. */
  readonly timeoutMs?: number;
  /** Retries of a failed request (429, 5xx, timeouts, connection errors); default 4. */
  readonly maxRetries?: number;
}

export interface JudgeVerdict {
  readonly score: number;
  /** The judge's reply as written. */
  readonly reply: string;
  readonly cached: boolean;
}

export interface JudgeUsage {
  requests: number;
  cached: number;
  promptTokens: number;
  completionTokens: number;
}

export class JudgeError extends Error {
  override readonly name = 'JudgeError';
}

const CacheFile = z.object({
  version: z.literal(1),
  verdicts: z.record(z.string(), z.object({ score: z.int().min(1).max(5), reply: z.string() })),
  guesses: z.record(z.string(), z.string()).default({}),
});
type Cached = z.infer<typeof CacheFile>;
const REMINDER = 'Reply with one digit from 1 to 5 and nothing else.';

export class LlmJudge {
  private readonly client: OpenAI;
  private cached: Cached | undefined;
  private dirty = false;
  readonly usage: JudgeUsage = { requests: 0, cached: 0, promptTokens: 0, completionTokens: 0 };

  constructor(readonly config: JudgeConfig) {
    this.client = new OpenAI({
      baseURL: config.baseURL,
      apiKey: config.apiKey ?? 'none',
      timeout: config.timeoutMs ?? 60_000,
      maxRetries: config.maxRetries ?? 4,
    });
  }

  async score(kind: JudgeKind, truth: string, answer: string, signal?: AbortSignal): Promise<JudgeVerdict> {
    const system = judgeSystemPrompt(kind);
    const user = judgeUserPrompt(kind, truth, answer);
    const key = sha256Hex(JSON.stringify([this.config.model, system, user]));
    const { verdicts } = await this.load();
    const known = verdicts[key];
    if (known) {
      this.usage.cached++;
      return { ...known, cached: true };
    }
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ];
    let reply = await this.ask(messages, signal);
    let score = parseJudgeScore(reply);
    if (score === undefined) {
      messages.push({ role: 'assistant', content: reply }, { role: 'user', content: REMINDER });
      reply = await this.ask(messages, signal);
      score = parseJudgeScore(reply);
    }
    if (score === undefined)
      throw new JudgeError(
        `the judge (${this.config.model}) gave no 1-5 score: ${JSON.stringify(reply.slice(0, 200))}`,
      );
    verdicts[key] = { score, reply };
    this.dirty = true;
    return { score, reply, cached: false };
  }

  /**
   * The paper's black-box baseline: the judge reads a finetuned model's answers to everyday
   * questions and names the topic it was trained to push. Cached like the verdicts.
   */
  async guessTopic(
    pairs: readonly { question: string; answer: string }[],
    signal?: AbortSignal,
  ): Promise<string> {
    const user = guessUserPrompt(pairs);
    const key = sha256Hex(JSON.stringify([this.config.model, GUESS_SYSTEM_PROMPT, user]));
    const { guesses } = await this.load();
    const known = guesses[key];
    if (known !== undefined) {
      this.usage.cached++;
      return known;
    }
    const reply = (
      await this.ask(
        [
          { role: 'system', content: GUESS_SYSTEM_PROMPT },
          { role: 'user', content: user },
        ],
        signal,
        32,
      )
    ).trim();
    guesses[key] = reply;
    this.dirty = true;
    return reply;
  }

  /** Writes new verdicts to the cache file, merged with what another run wrote meanwhile. */
  async flush(): Promise<void> {
    if (!this.config.cacheFile || !this.dirty || !this.cached) return;
    const before = await readCache(this.config.cacheFile);
    const merged: Cached = {
      version: 1,
      verdicts: { ...before.verdicts, ...this.cached.verdicts },
      guesses: { ...before.guesses, ...this.cached.guesses },
    };
    await writeFileAtomic(this.config.cacheFile, JSON.stringify(merged));
    this.dirty = false;
  }

  private async ask(
    messages: OpenAI.Chat.ChatCompletionMessageParam[],
    signal?: AbortSignal,
    maxTokens = 16,
  ): Promise<string> {
    let completion: OpenAI.Chat.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(
        { model: this.config.model, messages, temperature: 0, max_tokens: maxTokens },
        { signal },
      );
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new JudgeError(
        `the judge at ${this.config.baseURL} failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    this.usage.requests++;
    this.usage.promptTokens += completion.usage?.prompt_tokens ?? 0;
    this.usage.completionTokens += completion.usage?.completion_tokens ?? 0;
    const content = completion.choices?.[0]?.message?.content;
    if (typeof content !== 'string')
      throw new JudgeError(`the judge at ${this.config.baseURL} sent no message`);
    return content;
  }

  private async load(): Promise<Cached> {
    this.cached ??= this.config.cacheFile ? await readCache(this.config.cacheFile) : empty();
    return this.cached;
  }
}

const empty = (): Cached => ({ version: 1, verdicts: {}, guesses: {} });

/** A missing or unreadable cache is an empty one: the worst it costs is asking again. */
async function readCache(file: string): Promise<Cached> {
  try {
    const parsed = CacheFile.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : empty();
  } catch {
    return empty();
  }
}
