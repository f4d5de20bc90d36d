// dit-audit generate: text in, text out, through the same greedy path as forward.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { copyFixture, runCli, writeWordTokenizer } from './helpers';
import { TINY } from './paths';

it('generates from chat prompts with the greedy tokens forward takes', () => {
  const dir = copyFixture(join(TINY, 'qwen3-tiny'));
  writeWordTokenizer(dir, 512, { 10: 'user', 11: 'assistant', 12: 'hello', 13: 'world' });
  const r = runCli([
    'generate',
    '--model',
    dir,
    '--chat',
    '--prompt',
    'hello world',
    '--prompt',
    'world',
    '--max-new-tokens',
    '6',
    '--json',
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { results: { inputIds: number[]; tokens: number[]; text: string }[] };
  expect(out.results).toHaveLength(2);
  const first = out.results[0];
  expect(first.inputIds).toEqual([1, 10, 12, 13, 2, 1, 11]);
  expect(first.tokens.length).toBeGreaterThan(0);
  expect(first.text).toBe(
    first.tokens
      .filter((t) => t > 2)
      .map((t) => `w${t}`)
      .join(' '),
  );
  const fwd = runCli([
    'forward',
    '--model',
    dir,
    '--ids',
    first.inputIds.join(','),
    '--steps',
    String(first.tokens.length),
    '--json',
  ]);
  expect(JSON.parse(fwd.stdout).tokens).toEqual(first.tokens);
});

it('says when the model folder has no tokenizer', () => {
  const r = runCli(['generate', '--model', join(TINY, 'qwen3-tiny'), '--prompt', 'hi']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/tokenizer\.json/);
});
