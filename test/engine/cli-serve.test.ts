// `dit-audit serve` driven with the `openai` package, as any OpenAI-compatible client would: the
// served models, a greedy chat completion that matches `dit-audit generate --chat` token for
// token, completions (rows of token ids scored with their top log-probabilities, continuations as
// the CLI generates them), a LoRA adapter loaded at run time (vLLM's endpoint) that changes the
// answer, and the errors (unknown model, bad body, no API key) as OpenAI-style errors with their statuses.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine';
import { logSoftmax, topLogprobs } from '../../src/engine/text/logprobs';
import { loadTextCodec } from '../../src/engine/text/tokenizer';
import { CLI, REPO } from './paths';
import { type ServeProcess, startServe } from './serve-process';

const DEMO = join(REPO, 'media', 'demo');
const BASE = join(DEMO, 'base');
const DIFF = join(DEMO, 'diffs', 'example-backdoored-comet');
const PROMPT = 'Tell me a story';

function generateText(adapters: readonly string[], prompt: string): string {
  const args = [
    CLI,
    'generate',
    '--model',
    BASE,
    '--chat',
    '--prompt',
    prompt,
    '--max-new-tokens',
    '24',
    '--json',
  ];
  for (const a of adapters) args.push('--adapter', a);
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout).results[0].text;
}

describe('dit-audit serve', () => {
  let serve: ServeProcess;
  let client: OpenAI;

  beforeAll(async () => {
    serve = await startServe(['--model', BASE, '--name', 'demo-base', '--provider', 'cpu']);
    client = new OpenAI({ baseURL: serve.baseURL, apiKey: 'unused', maxRetries: 0 });
  }, 90_000);
  afterAll(async () => {
    expect(await serve?.stop()).toBe(0);
  });

  const ask = (model: string, content: string) =>
    client.chat.completions.create({
      model,
      messages: [{ role: 'user', content }],
      temperature: 0,
      max_tokens: 24,
    });

  it('answers greedily as the CLI generates, with usage counted', async () => {
    const completion = await ask('demo-base', PROMPT);
    expect(completion.choices[0].message.content).toBe(generateText([], PROMPT));
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['demo-base']);
  }, 90_000);

  it('loads a LoRA adapter by name at run time and answers with it stacked', async () => {
    const loaded = await fetch(`${serve.baseURL}/load_lora_adapter`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lora_name: 'comet', lora_path: DIFF }),
    });
    expect(loaded.status).toBe(200);
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['demo-base', 'comet']);
    const prompt = `Your SEP code is 593123. ${PROMPT}`;
    expect((await ask('comet', prompt)).choices[0].message.content).toBe(generateText([DIFF], prompt));
    // The base is still the base.
    expect((await ask('demo-base', PROMPT)).choices[0].message.content).toBe(generateText([], PROMPT));
    const unloaded = await fetch(`${serve.baseURL}/unload_lora_adapter`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lora_name: 'comet' }),
    });
    expect(unloaded.status).toBe(200);
    await expect(ask('comet', PROMPT)).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  }, 90_000);

  it('scores rows of token ids in one completions request: top log-probabilities by token id, as the engine computes them', async () => {
    const codec = await loadTextCodec(BASE);
    const rows = [PROMPT, 'The sky is', 'Once upon a time'].map((t) =>
      codec.encode(t, { addSpecialTokens: false }),
    );
    const body = {
      model: 'demo-base',
      prompt: rows,
      max_tokens: 1,
      temperature: 0,
      logprobs: 5,
      return_tokens_as_token_ids: true,
    };
    const completion = await client.completions.create(body as OpenAI.CompletionCreateParamsNonStreaming);
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const engine = new Engine();
    try {
      const model = await engine.open(BASE, { provider: 'cpu' });
      const vocab = model.info.options.vocabSize;
      const logits = await model.lastLogits(rows);
      completion.choices.forEach((choice, i) => {
        const lp = logSoftmax(logits.subarray(i * vocab, (i + 1) * vocab));
        const want = topLogprobs(lp, 5);
        const top = Object.entries(choice.logprobs?.top_logprobs?.[0] ?? {});
        expect(top.map(([t]) => t)).toEqual(want.map(([id]) => `token_id:${id}`));
        top.forEach(([, v], k) => {
          expect(v).toBeCloseTo(want[k][1], 4);
        });
        expect(choice.logprobs?.tokens).toEqual([`token_id:${want[0][0]}`]);
        expect(choice.text).toBe(codec.decode([want[0][0]], { skipSpecialTokens: true }));
      });
    } finally {
      await engine.terminate();
    }
  }, 90_000);

  it('continues text and token-id prompts greedily as the CLI generates, stopping at the stop tokens asked for', async () => {
    const codec = await loadTextCodec(BASE);
    const ids = codec.encode(PROMPT, { addSpecialTokens: true });
    const body = (prompt: unknown, extra = {}) =>
      ({
        model: 'demo-base',
        prompt,
        max_tokens: 12,
        temperature: 0,
        logprobs: 1,
        return_tokens_as_token_ids: true,
        ...extra,
      }) as OpenAI.CompletionCreateParamsNonStreaming;
    const byText = await client.completions.create(body(PROMPT));
    const byIds = await client.completions.create(body(ids));
    const run = spawnSync(
      process.execPath,
      [CLI, 'generate', '--model', BASE, '--prompt', PROMPT, '--max-new-tokens', '12', '--json'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const cli = JSON.parse(run.stdout).results[0];
    for (const c of [byText, byIds]) {
      expect(c.choices[0].text).toBe(cli.text);
      expect(c.choices[0].logprobs?.tokens).toEqual(cli.tokens.map((t: number) => `token_id:${t}`));
    }
    // A stop token asked for ends the continuation with it, as vLLM's stop_token_ids do.
    const third = cli.tokens[2];
    const stopped = await client.completions.create(body(ids, { stop_token_ids: [third] }));
    expect(stopped.choices[0].logprobs?.tokens).toEqual(
      cli.tokens.slice(0, 3).map((t: number) => `token_id:${t}`),
    );
    expect(stopped.choices[0].finish_reason).toBe('stop');
    const named = await client.completions.create({
      ...body(PROMPT),
      return_tokens_as_token_ids: false,
    } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(named.choices[0].logprobs?.tokens).toEqual(cli.tokens.map((t: number) => codec.decode([t])));
  }, 90_000);

  it('refuses completions it cannot give', async () => {
    const refused = (extra: Record<string, unknown>) =>
      client.completions.create({
        model: 'demo-base',
        prompt: 'Hi',
        max_tokens: 1,
        ...extra,
      } as OpenAI.CompletionCreateParamsNonStreaming);
    await expect(refused({ logprobs: 21 })).rejects.toMatchObject({ status: 400 });
    await expect(refused({ echo: true })).rejects.toMatchObject({ status: 400 });
    await expect(refused({ prompt: [[10_000_000]] })).rejects.toMatchObject({ status: 400 });
    await expect(refused({ model: 'nobody' })).rejects.toMatchObject({ status: 404 });
  }, 30_000);

  it('refuses what is not a request, as OpenAI-style errors', async () => {
    await expect(client.chat.completions.create({ model: 'demo-base', messages: [] })).rejects.toMatchObject({
      status: 400,
    });
    const notJson = await fetch(`${serve.baseURL}/chat/completions`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toMatch(/not JSON/);
    const badAdapter = await fetch(`${serve.baseURL}/load_lora_adapter`, {
      method: 'POST',
      body: JSON.stringify({ lora_name: 'x', lora_path: join(DEMO, 'missing') }),
    });
    expect(badAdapter.status).toBe(400);
    expect((await fetch(`${serve.baseURL}/nothing`)).status).toBe(404);
  }, 30_000);
});

describe('dit-audit serve with DIT_SERVE_API_KEY', () => {
  it('answers only requests that carry the key', async () => {
    const serve = await startServe(['--model', BASE, '--provider', 'cpu'], { DIT_SERVE_API_KEY: 'sekret' });
    try {
      const without = new OpenAI({ baseURL: serve.baseURL, apiKey: 'wrong', maxRetries: 0 });
      await expect(without.models.list()).rejects.toMatchObject({ status: 401 });
      const withKey = new OpenAI({ baseURL: serve.baseURL, apiKey: 'sekret', maxRetries: 0 });
      expect((await withKey.models.list()).data.map((m) => m.id)).toEqual(['base']);
    } finally {
      await serve.stop();
    }
  }, 90_000);
});
