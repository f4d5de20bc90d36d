// The attention of standard ops (graph/composed-attention.ts), which the CPU runs and which serves
// the models GroupQueryAttention cannot anywhere: on the fixtures it computes what
// GroupQueryAttention (forced) computes (prefill, decode across KV growth, batches, sliding windows,
// soft-capping) and the fixtures' reference logits; for random Qwen3 and Gemma3 models whose
// head_dim is not a multiple of 8 it opens, decodes consistently, runs through the CLI with nothing
// on stderr, and matches an eager PyTorch forward where Debian's python3-torch is installed.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensorsFile } from '../../src/engine/checkpoint/safetensors';
import { InputError } from '../../src/engine/checkpoint/types';
import { forwardTrace } from '../../src/engine/forward';
import type { AttentionChoice } from '../../src/engine/graph/attention-kernel';
import { Engine, type ModelHandle } from '../../src/engine/runtime/engine';
import { argmax } from '../../src/engine/text/sampling';
import { FIXTURE_CASES, relativeError } from './fixture-cases';
import { copyFixture, freshDirs, runCli, writeWordTokenizer } from './helpers';
import { REPO, TINY } from './paths';
import { gemma3Config, qwen3Config, writeRandomModel } from './random-model';

const fresh = freshDirs('dit-composed-');

function worstRow(rows: readonly Float32Array[], refs: readonly (Float32Array | number[])[]): number {
  expect(rows).toHaveLength(refs.length);
  return Math.max(...rows.map((r, i) => relativeError(r, refs[i])));
}

/** Prefill `prompt` into a sequence of capacity 4 (so its KV buffers grow), then `steps` greedy steps. */
async function decode(model: ModelHandle, prompt: number[], steps: number) {
  const vocab = model.info.options.vocabSize;
  const seq = await model.sequence(4);
  try {
    const { logits } = await seq.appendRows(prompt, true);
    const rows: Float32Array[] = prompt.map((_, i) => logits.slice(i * vocab, (i + 1) * vocab));
    const tokens: number[] = [];
    for (let s = 0; s < steps; s++) {
      tokens.push(argmax(rows[rows.length - 1]));
      rows.push(await seq.append([tokens[s]]));
    }
    return { rows, tokens };
  } finally {
    await seq.dispose();
  }
}

const ROWS = [
  [5, 6, 7, 8, 9, 10, 11],
  [12, 13, 14, 15, 16, 17, 18],
  [3, 1, 4],
  [1, 5, 9, 2, 6, 5, 3],
  [2, 7, 1],
  [8],
];

let engine: Engine;
beforeAll(() => {
  engine = new Engine();
});
afterAll(() => engine.terminate());

const open = (dir: string, attention: AttentionChoice, extra: { maxScoreBytes?: number } = {}) =>
  engine.open(dir, { provider: 'cpu', maxPositions: 64, attention, ...extra });

/** gemma3-tiny with its attention scores soft-capped hard enough to matter. */
function softcappedGemma(): string {
  const dir = copyFixture(join(TINY, 'gemma3-tiny'));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, attn_logit_softcapping: 0.5 }));
  return dir;
}

describe('composed attention forced on the fixtures, against GroupQueryAttention', () => {
  const cases = [
    { name: 'llama-tiny', dir: () => join(TINY, 'llama-tiny'), adapters: ['llama-tiny-lora-r4'] },
    {
      name: 'qwen3-tiny',
      dir: () => join(TINY, 'qwen3-tiny'),
      adapters: ['qwen3-tiny-lora-r1', 'qwen3-tiny-dit'],
    },
    { name: 'qwen2-tiny', dir: () => join(TINY, 'qwen2-tiny'), adapters: [] },
    // Sliding layers of width 4 beside full ones; MQA.
    { name: 'gemma3-tiny', dir: () => join(TINY, 'gemma3-tiny'), adapters: ['gemma3-tiny-lora-r1'] },
    { name: 'gemma3-tiny, attn_logit_softcapping 0.5', dir: softcappedGemma, adapters: [] },
  ];

  it.each(cases)('$name: prefill, 40 greedy steps across KV growth, batched rows', async (c) => {
    const dir = c.dir();
    const [gqa, composed] = await Promise.all([open(dir, 'gqa'), open(dir, 'composed')]);
    expect([gqa.info.attention, composed.info.attention]).toEqual(['gqa', 'composed']);
    const adapters = c.adapters.map((a) => ({ path: join(TINY, a) }));
    await Promise.all([gqa.setAdapters(adapters), composed.setAdapters(adapters)]);

    const prompt = [5, 6, 7, 8, 9, 10, 11];
    const want = await decode(gqa, prompt, 40);
    const got = await decode(composed, prompt, 40);
    expect(got.tokens).toEqual(want.tokens);
    expect(worstRow(got.rows, want.rows)).toBeLessThan(1e-5);

    const batched = await composed.lastLogits(ROWS);
    expect(relativeError(batched, await gqa.lastLogits(ROWS))).toBeLessThan(1e-5);
    await Promise.all([gqa.close(), composed.close()]);
  });

  it('soft-capping changes the scores in both (so the case above compares something)', async () => {
    const capped = await open(softcappedGemma(), 'composed');
    const plain = await open(join(TINY, 'gemma3-tiny'), 'composed');
    const [a, b] = await Promise.all([capped.lastLogits(ROWS), plain.lastLogits(ROWS)]);
    expect(relativeError(a, b)).toBeGreaterThan(1e-2);
  });

  it('reproduces every fixture case: the float64 reference logits, the greedy tokens', async () => {
    const expected = await openSafetensorsFile(join(TINY, 'expected_logits.safetensors'));
    const models = new Map<string, ModelHandle>();
    let worst = 0;
    for (const c of FIXTURE_CASES) {
      let model = models.get(c.checkpoint);
      if (!model) {
        model = await open(join(TINY, c.checkpoint), 'composed');
        models.set(c.checkpoint, model);
      }
      await model.setAdapters(c.adapters.map((a) => ({ path: join(TINY, a) })));
      const trace = await forwardTrace(model, c.input_ids, 8);
      expect(trace.tokens, c.key).toEqual(c.greedy_next_8);
      const ref = await expected.readFloat32(c.key);
      const vocab = model.info.options.vocabSize;
      const refs = trace.logits.map((_, i) => ref.subarray(i * vocab, (i + 1) * vocab));
      worst = Math.max(worst, worstRow(trace.logits, refs));
    }
    expect(FIXTURE_CASES).toHaveLength(48);
    expect(worst).toBeLessThan(1e-4);
  }, 120_000);
});

const TORCH =
  spawnSync('sh', [join(REPO, 'trainer/run'), '-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** The eager PyTorch logits of every position of `ids` (test/engine/torch_reference.py). */
function torchLogits(dir: string, ids: readonly number[]): number[][] {
  const r = spawnSync(
    'sh',
    [join(REPO, 'trainer/run'), '-B', 'test/engine/torch_reference.py', dir, ids.join(',')],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (r.status !== 0) throw new Error(`torch_reference.py failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { logits: number[][] }).logits;
}

const GENERATED = [
  {
    title: 'Qwen3, head_dim 12, GQA 4:2',
    config: qwen3Config({
      vocab: 96,
      hidden: 40,
      intermediate: 80,
      layers: 2,
      heads: 4,
      kvHeads: 2,
      headDim: 12,
    }),
  },
  {
    title: 'Gemma3, head_dim 20, MQA, sliding window 3, soft-capped scores and logits',
    config: gemma3Config(
      { vocab: 96, hidden: 40, intermediate: 80, layers: 3, heads: 4, kvHeads: 1, headDim: 20 },
      {
        sliding_window: 3,
        layer_types: ['sliding_attention', 'full_attention', 'sliding_attention'],
        attn_logit_softcapping: 2.0,
        final_logit_softcapping: 5.0,
      },
    ),
  },
];

describe.each(GENERATED)('a generated $title: GroupQueryAttention cannot run it', ({ config }) => {
  let dir: string;
  let model: ModelHandle;
  const prompt = [3, 14, 15, 92, 65, 35, 8, 9, 7, 93];
  beforeAll(async () => {
    dir = fresh();
    writeRandomModel(dir, config, 11);
    model = await open(dir, 'auto');
  });

  it('opens with the composed attention by itself', () => {
    expect(model.info.attention).toBe('composed');
    expect(model.info.options.headDim).toBe(config.head_dim);
  });

  it('decodes what one prefill over the whole sequence computes, in steps and in chunks', async () => {
    const stepped = await decode(model, prompt, 20);
    const whole = [...prompt, ...stepped.tokens];
    const vocab = model.info.options.vocabSize;
    const seq = await model.sequence(whole.length);
    const { logits } = await seq.appendRows(whole, true);
    await seq.dispose();
    const once = whole.map((_, i) => logits.subarray(i * vocab, (i + 1) * vocab));
    expect(worstRow(stepped.rows, once)).toBeLessThan(1e-5);

    // Uneven chunks continuing a past of several tokens, into a buffer that grows.
    const chunked = await model.sequence(2);
    const rows: Float32Array[] = [];
    for (let at = 0, size = 1; at < whole.length; at += size, size = (size % 5) + 2) {
      const part = whole.slice(at, at + size);
      const out = (await chunked.appendRows(part, true)).logits;
      for (let i = 0; i < part.length; i++) rows.push(out.slice(i * vocab, (i + 1) * vocab));
    }
    await chunked.dispose();
    expect(worstRow(rows, once)).toBeLessThan(1e-5);
  });

  it('scores batched rows as each alone, and splits runs whose scores would be too large', async () => {
    const vocab = model.info.options.vocabSize;
    const batched = await model.lastLogits(ROWS);
    // A bound of one byte: every run is split into one-token runs.
    const split = await open(dir, 'auto', { maxScoreBytes: 1 });
    const bounded = await split.lastLogits(ROWS);
    const longRow = (await forwardTrace(split, prompt, 3)).logits;
    const longRef = (await forwardTrace(model, prompt, 3)).logits;
    for (const [i, row] of ROWS.entries()) {
      const alone = (await forwardTrace(model, row, 0)).logits.at(-1) as Float32Array;
      expect(relativeError(batched.subarray(i * vocab, (i + 1) * vocab), alone)).toBeLessThan(1e-5);
      expect(relativeError(bounded.subarray(i * vocab, (i + 1) * vocab), alone)).toBeLessThan(1e-5);
    }
    expect(worstRow(longRow, longRef)).toBeLessThan(1e-5);
    await split.close();
  });

  it('refuses to be forced onto GroupQueryAttention, at load, in one line', async () => {
    const refused = open(dir, 'gqa');
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(
      new RegExp(
        `^onnxruntime's GroupQueryAttention cannot run this model: its head_dim ${config.head_dim} is not a multiple of 8$`,
      ),
    );
  });

  it('runs through the CLI (forward and generate) with nothing on stderr', async () => {
    const r = runCli(['forward', '--model', dir, '--ids', prompt.join(','), '--steps', '6', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { logits: number[][]; tokens: number[] };
    const trace = await forwardTrace(model, prompt, 6);
    expect(out.tokens).toEqual(trace.tokens);
    expect(worstRow(trace.logits, out.logits)).toBeLessThan(1e-5);

    const withTokenizer = fresh();
    writeRandomModel(withTokenizer, config, 11);
    writeWordTokenizer(withTokenizer, config.vocab_size as number, {
      10: 'user',
      11: 'assistant',
      12: 'hello',
    });
    const g = runCli([
      'generate',
      '--model',
      withTokenizer,
      '--prompt',
      'hello',
      '--max-new-tokens',
      '5',
      '--json',
    ]);
    expect(g.stderr).toBe('');
    expect(g.code).toBe(0);
    const generated = JSON.parse(g.stdout) as { results: { tokens: number[] }[] };
    expect(generated.results[0].tokens.length).toBeGreaterThan(0);
  });

  it.skipIf(!TORCH)('matches an eager PyTorch forward (float64) at every position', async () => {
    const trace = await forwardTrace(model, prompt, 8);
    const reference = torchLogits(dir, [...prompt, ...trace.tokens]);
    const greedy = trace.tokens.map((_, s) => argmax(Float32Array.from(reference[prompt.length - 1 + s])));
    expect(trace.tokens).toEqual(greedy);
    expect(worstRow(trace.logits, reference)).toBeLessThan(1e-4);
  });
});

describe('a config neither attention can serve', () => {
  it('is refused at load, in one line: an odd head_dim (RoPE rotates pairs)', () => {
    const dir = fresh();
    writeRandomModel(
      dir,
      qwen3Config({ vocab: 64, hidden: 32, intermediate: 64, layers: 1, heads: 2, kvHeads: 1, headDim: 13 }),
      3,
    );
    const r = runCli(['forward', '--model', dir, '--ids', '1,2,3']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^dit-audit: .*head_dim 13 is odd, so RoPE cannot rotate it/);
  });
});
