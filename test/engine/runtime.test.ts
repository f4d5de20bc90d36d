// The worker runtime: one warm session, adapters swapped as inputs, bad input survived, cancellation.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/checkpoint/types';
import { forwardTrace } from '../../src/engine/forward';
import { CancelledError, Engine, type ModelHandle } from '../../src/engine/runtime/engine';
import { gpuDevicePresent } from '../../src/engine/runtime/ort-session';
import { generate } from '../../src/engine/text/generate';
import { copyFixture, tempDir } from './helpers';
import { TINY } from './paths';

describe('engine runtime', () => {
  let engine: Engine;
  let model: ModelHandle;
  beforeAll(async () => {
    engine = new Engine();
    model = await engine.open(join(TINY, 'qwen3-tiny'), { provider: 'cpu', maxPositions: 128 });
  });
  afterAll(() => engine.terminate());

  it('reports the execution provider it chose and why', () => {
    expect(model.info.provider.provider).toBe('cpu');
    expect(model.info.provider.reasons.join(' ')).toMatch(/cpu: session created/);
  });

  it('runs a long prompt in bounded runs, with the same logits as one run, on either attention', async () => {
    const prompt = Array.from({ length: 40 }, (_, i) => (i * 37) % 500);
    const once = await forwardTrace(model, prompt, 3);
    expect(model.info.attention).toBe('composed');
    for (const attention of ['composed', 'gqa'] as const) {
      // A bound of one byte: one token per run, each continuing the KV cache the previous one wrote.
      const split = await engine.open(join(TINY, 'qwen3-tiny'), {
        provider: 'cpu',
        maxPositions: 128,
        maxScoreBytes: 1,
        attention,
      });
      expect(split.info.attention).toBe(attention);
      const chunked = await forwardTrace(split, prompt, 3);
      expect(chunked.tokens).toEqual(once.tokens);
      for (const [i, row] of chunked.logits.entries()) {
        const ref = once.logits[i];
        let worst = 0;
        for (let j = 0; j < row.length; j++) worst = Math.max(worst, Math.abs(row[j] - ref[j]));
        expect(worst).toBeLessThan(1e-4);
      }
      await split.close();
    }
  });

  it('survives a bad adapter and keeps serving the same session', async () => {
    const before = await forwardTrace(model, [1, 2, 3], 2);
    await expect(model.setAdapters([{ path: join(TINY, 'llama-tiny-lora-r1') }])).rejects.toBeInstanceOf(
      InputError,
    );
    await expect(model.setAdapters([{ path: join(TINY, 'missing-adapter') }])).rejects.toThrow(
      /does not exist/,
    );
    await model.setAdapters([]);
    const after = await forwardTrace(model, [1, 2, 3], 2);
    expect(after.tokens).toEqual(before.tokens);
  });

  it('swaps diffs as inputs only: stacking then removing an adapter restores the base exactly', async () => {
    await model.setAdapters([]);
    const base = await forwardTrace(model, [7, 8, 9], 1);
    const swap = await model.setAdapters([
      { path: join(TINY, 'qwen3-tiny-lora-r1') },
      { path: join(TINY, 'qwen3-tiny-dit') },
    ]);
    expect(swap.adapters.map((a) => a.maxRank)).toEqual([1, 8]);
    const stacked = await forwardTrace(model, [7, 8, 9], 1);
    expect(stacked.logits[0]).not.toEqual(base.logits[0]);
    await model.setAdapters([]);
    const again = await forwardTrace(model, [7, 8, 9], 1);
    expect(again.logits).toEqual(base.logits);
  });

  it('grows a sequence past its first capacity', async () => {
    await model.setAdapters([]);
    const long = Array.from({ length: 40 }, (_, i) => (i * 7) % 500);
    const seq = await model.sequence(4);
    const first = await seq.append(long.slice(0, 20));
    expect(first).toHaveLength(512);
    const next = await seq.append(long.slice(20));
    const whole = await forwardTrace(model, long, 0);
    const last = whole.logits[whole.logits.length - 1];
    const diff = Math.max(...Array.from(next, (v, i) => Math.abs(v - last[i])));
    expect(diff).toBeLessThan(1e-4);
    await seq.dispose();
  });

  it('stops generating when the signal aborts', async () => {
    const controller = new AbortController();
    const seq = await model.sequence(64);
    const result = await generate(
      seq,
      [1, 2, 3],
      {
        maxNewTokens: 50,
        stopTokenIds: [],
        sampling: { kind: 'greedy' },
        onToken: (_t, tokens) => {
          if (tokens.length === 3) controller.abort();
        },
      },
      controller.signal,
    );
    expect(result.finishReason).toBe('cancelled');
    expect(result.tokens).toHaveLength(3);
  });
});

describe('hard cancellation', () => {
  it('terminating the worker rejects pending requests with CancelledError', async () => {
    const engine = new Engine();
    const opening = expect(
      engine.open(join(TINY, 'gemma3-tiny'), { provider: 'cpu' }),
    ).rejects.toBeInstanceOf(CancelledError);
    await engine.terminate();
    await opening;
    await expect(engine.open(join(TINY, 'gemma3-tiny'))).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('sessions', () => {
  it('shares one warm session per base checkpoint', async () => {
    const engine = new Engine();
    try {
      const a = await engine.open(join(TINY, 'llama-tiny'), { provider: 'cpu' });
      const b = await engine.open(join(TINY, 'llama-tiny'), { provider: 'cpu' });
      expect(b.id).toBe(a.id);
      await a.close();
      const stillThere = await forwardTrace(b, [1, 2], 1);
      expect(stillThere.tokens).toHaveLength(1);
      await b.close();
      await expect(forwardTrace(b, [1, 2], 1)).rejects.toThrow(/no open model/);
    } finally {
      await engine.terminate();
    }
  });

  it('opens a new session when the checkpoint was remade in place', async () => {
    const engine = new Engine();
    try {
      const dir = copyFixture(join(TINY, 'llama-tiny'));
      const a = await engine.open(dir, { provider: 'cpu' });
      const weights = join(dir, 'model.safetensors');
      utimesSync(weights, new Date(), new Date(Date.now() + 5000));
      const b = await engine.open(dir, { provider: 'cpu' });
      expect(b.id).not.toBe(a.id);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await engine.terminate();
    }
  });

  it.runIf(process.platform === 'linux')(
    'counts a render node, NVIDIA or WSL device as a GPU, and nothing else (a software Vulkan is not one)',
    () => {
      const devices = tempDir();
      expect(gpuDevicePresent(devices)).toBe(false);
      mkdirSync(join(devices, 'dri'));
      writeFileSync(join(devices, 'dri', 'card0'), '');
      expect(gpuDevicePresent(devices)).toBe(false);
      writeFileSync(join(devices, 'dri', 'renderD128'), '');
      expect(gpuDevicePresent(devices)).toBe(true);
      for (const name of ['nvidiactl', 'dxg']) {
        const other = tempDir();
        writeFileSync(join(other, name), '');
        expect(gpuDevicePresent(other)).toBe(true);
      }
    },
  );

  it('auto tries the GPU providers first and says why it settled', async () => {
    const engine = new Engine();
    try {
      const m = await engine.open(join(TINY, 'qwen2-tiny'), { provider: 'auto' });
      expect(m.info.provider.reasons[0]).toMatch(/^cuda: /);
      expect(m.info.provider.reasons.some((r) => r.startsWith('webgpu: '))).toBe(true);
      expect(m.info.provider.reasons.at(-1)).toMatch(
        new RegExp(`^${m.info.provider.provider}: session created`),
      );
    } finally {
      await engine.terminate();
    }
  });
});
