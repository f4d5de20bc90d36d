// The CLI as a user runs it: spawned, stdout and exit codes read.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, rewriteSafetensors, runCli, tempDir } from './helpers';
import { TINY } from './paths';

const cases = JSON.parse(readFileSync(join(TINY, 'cases.json'), 'utf8')).cases as {
  key: string;
  checkpoint: string;
  adapters: string[];
  input_ids: number[];
  greedy_next_8: number[];
}[];

function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^dit-audit: /);
  expect(lines[0]).toMatch(pattern);
}

describe('dit-audit forward', () => {
  it('prints prefill rows and K greedy steps as JSON', () => {
    const c = cases.find((x) => x.key === 'qwen3-tiny/lora-r1+dit/0');
    if (!c) throw new Error('fixture case missing');
    const args = [
      'forward',
      '--model',
      join(TINY, c.checkpoint),
      '--ids',
      c.input_ids.join(','),
      '--steps',
      '8',
      '--json',
    ];
    for (const a of c.adapters) args.push('--adapter', join(TINY, a));
    const r = runCli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { logits: number[][]; tokens: number[] };
    expect(out.tokens).toEqual(c.greedy_next_8);
    expect(out.logits).toHaveLength(c.input_ids.length + 8);
    expect(out.logits[0]).toHaveLength(512);
  });

  it('runs a Gemma3 multimodal checkpoint (text_config, language_model.model. weights) like its text model', () => {
    const dir = tempDir();
    const text = JSON.parse(readFileSync(join(TINY, 'gemma3-tiny/config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gemma3', text_config: text }));
    rewriteSafetensors(join(TINY, 'gemma3-tiny/model.safetensors'), join(dir, 'model.safetensors'), (h) =>
      Object.fromEntries(
        Object.entries(h).map(([k, v]) => [k.replace(/^model\./, 'language_model.model.'), v]),
      ),
    );
    const ids = '5,6,7,8,9,10';
    const wrapped = runCli(['forward', '--model', dir, '--ids', ids, '--steps', '3', '--json']);
    const plain = runCli([
      'forward',
      '--model',
      join(TINY, 'gemma3-tiny'),
      '--ids',
      ids,
      '--steps',
      '3',
      '--json',
    ]);
    expect(wrapped.code).toBe(0);
    expect(JSON.parse(wrapped.stdout)).toEqual(JSON.parse(plain.stdout));
  });

  it('refuses an unsupported model_type, listing what is supported', () => {
    const dir = copyFixture(join(TINY, 'llama-tiny'));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'mixtral' }));
    expectOneLineError(
      runCli(['forward', '--model', dir, '--ids', '1,2']),
      /"mixtral" is not supported.*llama, qwen2, qwen3, gemma3_text, gemma3, mistral/,
    );
  });

  it.each([
    [
      'of another family',
      'qwen3-tiny',
      'llama-tiny-lora-r1',
      /does not fit the base: layer 0 \w+_proj is \d+x\d+, the base's is \d+x\d+/,
    ],
    ['with more layers than the base', 'qwen2-tiny', 'qwen3-tiny-lora-r1', /does not fit the base/],
  ])('refuses an adapter %s', (_, model, adapter, pattern) => {
    const r = runCli([
      'forward',
      '--model',
      join(TINY, model),
      '--adapter',
      join(TINY, adapter),
      '--ids',
      '1,2',
    ]);
    expectOneLineError(r, pattern);
  });

  it('names a missing shard', () => {
    const dir = copyFixture(join(TINY, 'qwen3-tiny'));
    rmSync(join(dir, 'model-00002-of-00002.safetensors'));
    expectOneLineError(
      runCli(['forward', '--model', dir, '--ids', '1,2']),
      /model-00002-of-00002\.safetensors/,
    );
  });

  it('refuses a tensor whose shape does not match config.json', () => {
    const dir = copyFixture(join(TINY, 'llama-tiny'));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 64 }));
    expectOneLineError(
      runCli(['forward', '--model', dir, '--ids', '1,2']),
      /config\.json is inconsistent with the weights: .* imply \[64, 48\] for model\.layers\.0\.mlp\.gate_proj\.weight, which is \[96, 48\]/,
    );
  });

  it('refuses token ids outside the vocabulary', () => {
    expectOneLineError(
      runCli(['forward', '--model', join(TINY, 'llama-tiny'), '--ids', '1,99999']),
      /token id 99999 is outside/,
    );
  });

  it('says when the folder is not a model', () => {
    expectOneLineError(runCli(['forward', '--model', tempDir(), '--ids', '1']), /has no config\.json/);
  });

  it('prints the stack only with --debug', () => {
    const r = runCli(['--debug', 'forward', '--model', tempDir(), '--ids', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').length).toBeGreaterThan(2);
  });
});
