// Regression: what is behind a checkpoint's file names (issue 12, points 4-6). A symlink to
// /dev/zero, a folder, a FIFO where a file should be; JSON with a byte-order mark, a key twice, or
// nesting that overflowed the stack: each is refused in one line, by every reader the same way.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpointTensors } from '../../src/engine/checkpoint/checkpoint-files';
import { loadPeftAdapter } from '../../src/engine/checkpoint/peft';
import { openRegularFile } from '../../src/engine/checkpoint/regular-file';
import { openSafetensorsFile } from '../../src/engine/checkpoint/safetensors';
import { MAX_JSON_DEPTH, parseStrictJson } from '../../src/engine/checkpoint/strict-json';
import { InputError } from '../../src/engine/checkpoint/types';
import { inspectPath } from '../../src/engine/inspect';
import { loadCheckpoint } from '../../src/engine/runtime/load-model';
import { freshDirs, runCli, safetensorsBytes } from './helpers';
import { TINY } from './paths';

const fresh = freshDirs('dit-hostile-files-');

const R1 = join(TINY, 'qwen3-tiny-lora-r1');
const LLAMA = join(TINY, 'llama-tiny');

/** An adapter folder whose adapter_model.safetensors is `make(path)`. */
function adapterWithWeights(make: (path: string) => void): string {
  const dir = fresh();
  copyFileSync(join(R1, 'adapter_config.json'), join(dir, 'adapter_config.json'));
  make(join(dir, 'adapter_model.safetensors'));
  return dir;
}

const WEIRD: [string, (path: string) => void, RegExp][] = [
  ['a symlink to /dev/zero', (p) => symlinkSync('/dev/zero', p), /is a device, not a regular file/],
  ['a folder', (p) => mkdirSync(p), /is a folder, not a file/],
  ['a FIFO', (p) => spawnSync('mkfifo', [p]), /is a pipe, not a regular file/],
  ['a dangling symlink', (p) => symlinkSync(join(fresh(), 'nowhere'), p), /no such file/],
];

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('files that are not regular files', () => {
  it.each(WEIRD)(
    'adapter weights that are %s: load and inspect refuse in one line',
    async (_w, make, why) => {
      const dir = adapterWithWeights(make);
      expect(await refusal(loadPeftAdapter(dir))).toMatch(why);
      expect(await refusal(inspectPath(dir))).toMatch(why);
    },
  );

  it.each(WEIRD)('model weights or config.json that are %s are refused', async (_w, make, why) => {
    const weights = fresh();
    copyFileSync(join(LLAMA, 'config.json'), join(weights, 'config.json'));
    make(join(weights, 'model.safetensors'));
    expect(await refusal(openCheckpointTensors(weights))).toMatch(why);
    const config = fresh();
    copyFileSync(join(LLAMA, 'model.safetensors'), join(config, 'model.safetensors'));
    make(join(config, 'config.json'));
    expect(await refusal(loadCheckpoint(config))).toMatch(why);
  });

  it('opens a FIFO without blocking (it is refused at once, no writer needed)', async () => {
    const path = join(fresh(), 'pipe');
    spawnSync('mkfifo', [path]);
    const started = performance.now();
    expect(await refusal(openRegularFile(path))).toMatch(/is a pipe/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('`audit` of an adapter whose weights link to /dev/zero exits 2 in one line, at once', () => {
    const dir = adapterWithWeights((p) => symlinkSync('/dev/zero', p));
    const started = performance.now();
    const r = runCli(
      [
        'audit',
        dir,
        '--base',
        join(TINY, 'qwen3-tiny'),
        '--interpreter',
        join(TINY, 'qwen3-tiny-dit'),
      ].concat(['--trigger-budget', '0', '--no-cache', '--format', 'json']),
      20_000,
    );
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('dit-audit:'));
    expect(errors).toEqual([
      expect.stringMatching(/adapter_model\.safetensors: is a device, not a regular file$/),
    ]);
  });
});

describe('links out of a checkpoint folder', () => {
  it('inspect names a shard that links out of its folder, on stderr and in the JSON; an HF cache snapshot passes', () => {
    const dir = fresh();
    for (const f of ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors']) {
      copyFileSync(join(TINY, 'qwen3-tiny', f), join(dir, f));
    }
    const outside = join(TINY, 'qwen3-tiny', 'model-00002-of-00002.safetensors');
    symlinkSync(outside, join(dir, 'model-00002-of-00002.safetensors'));
    const r = runCli(['inspect', dir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `dit-audit: warning: ${join(dir, 'model-00002-of-00002.safetensors')} is a link out of its folder, to ${outside}\n`,
    );
    expect(JSON.parse(r.stdout).outsideLinks).toEqual([
      { file: join(dir, 'model-00002-of-00002.safetensors'), target: outside },
    ]);

    const repo = join(fresh(), 'models--org--tiny');
    const snapshot = join(repo, 'snapshots', 'abc123');
    mkdirSync(snapshot, { recursive: true });
    mkdirSync(join(repo, 'blobs'));
    for (const f of ['config.json', 'model.safetensors']) {
      copyFileSync(join(LLAMA, f), join(repo, 'blobs', `blob-${f}`));
      symlinkSync(join('..', '..', 'blobs', `blob-${f}`), join(snapshot, f));
    }
    const cached = runCli(['inspect', snapshot, '--json']);
    expect(cached.stderr).toBe('');
    expect(JSON.parse(cached.stdout).outsideLinks).toBeUndefined();
  });
});

describe('strict JSON', () => {
  it('refuses a byte-order mark, a key twice, and nesting past the limit; takes the rest as JSON.parse does', () => {
    expect(parseStrictJson('\ufeff{"a": 1}')).toEqual({ problem: 'starts with a byte-order mark (U+FEFF)' });
    expect(parseStrictJson('{"r": 1, "b": {"r": 2}, "r": 1000000000}')).toEqual({
      problem: 'has the key "r" twice in one object',
    });
    expect(parseStrictJson('{"a\\u0062": 1, "ab": 2}')).toEqual({
      problem: 'has the key "ab" twice in one object',
    });
    expect(parseStrictJson(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`)).toEqual({
      problem: `nests deeper than ${MAX_JSON_DEPTH} levels`,
    });
    const deep = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
    expect(parseStrictJson(deep)).toEqual({ value: JSON.parse(deep) });
    const text = '{"a": [1, {"b": "x\\"y,{"}], "c": {"a": 2}, "d": "}"}';
    expect(parseStrictJson(text)).toEqual({ value: JSON.parse(text) });
    expect(parseStrictJson('{"a": 1,}')).toMatchObject({ problem: expect.stringMatching(/^not valid JSON/) });
  });

  it('adapter_config.json nested 100,000 deep, or with r twice, is refused by name', async () => {
    const deep = adapterWithWeights((p) => copyFileSync(join(R1, 'adapter_model.safetensors'), p));
    writeFileSync(join(deep, 'adapter_config.json'), `{"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(await refusal(loadPeftAdapter(deep))).toMatch(
      /adapter_config\.json: nests deeper than 128 levels/,
    );
    const twice = adapterWithWeights((p) => copyFileSync(join(R1, 'adapter_model.safetensors'), p));
    const config = readFileSync(join(R1, 'adapter_config.json'), 'utf8').trim();
    writeFileSync(join(twice, 'adapter_config.json'), `${config.slice(0, -1)}, "r": 1000000000}`);
    expect(await refusal(loadPeftAdapter(twice))).toMatch(/has the key "r" twice in one object/);
  });

  it('a safetensors header with a byte-order mark or a tensor named twice is refused', async () => {
    const entry = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
    const bom = join(fresh(), 'bom.safetensors');
    writeFileSync(bom, safetensorsBytes(`\ufeff${JSON.stringify({ w: entry })}`, new Uint8Array(4)));
    expect(await refusal(openSafetensorsFile(bom))).toMatch(/header starts with a byte-order mark/);
    const dup = join(fresh(), 'dup.safetensors');
    const header = `{"w": ${JSON.stringify(entry)}, "w": ${JSON.stringify(entry)}}`;
    writeFileSync(dup, safetensorsBytes(header, new Uint8Array(4)));
    expect(await refusal(openSafetensorsFile(dup))).toMatch(/header has the key "w" twice/);
  });
});
