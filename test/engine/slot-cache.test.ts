// A warm session keeps recent adapter stacks as slot inputs (SlotCache): switching back to a stack
// gives the very logits a fresh session computes, an adapter whose file changed is read again, and
// the kept stacks stay within their byte budget.
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINEAR_MODULES, type LoraAdapter, type LoraFactor } from '../../src/engine/checkpoint/types';
import type { ModelOptions } from '../../src/engine/config/model-options';
import { forwardTrace } from '../../src/engine/forward';
import { linearShape } from '../../src/engine/graph/slots';
import { Engine, type ModelHandle } from '../../src/engine/runtime/engine';
import { loadCheckpoint } from '../../src/engine/runtime/load-model';
import { loraFeeds } from '../../src/engine/runtime/lora-feeds';
import { SlotCache } from '../../src/engine/runtime/slot-cache';
import { copyFixture } from './helpers';
import { TINY } from './paths';

const BASE = join(TINY, 'qwen3-tiny');
const DIT = { path: join(TINY, 'qwen3-tiny-dit') };
const A = [{ path: join(TINY, 'qwen3-tiny-lora-r1') }, DIT];
const B = [{ path: join(TINY, 'qwen3-tiny-lora-r4') }, DIT];
const PROMPT = [5, 17, 42, 9];

/** Logits of the prompt and 2 greedy steps in a session of its own, with `stack` set once. */
async function freshLogits(stack: { path: string }[]): Promise<Float32Array[]> {
  const engine = new Engine();
  try {
    const model = await engine.open(BASE, { provider: 'cpu', maxPositions: 64 });
    await model.setAdapters(stack);
    return (await forwardTrace(model, PROMPT, 2)).logits;
  } finally {
    await engine.terminate();
  }
}

/** Multiplies every lora_B value of a float32 PEFT adapter file in place (same size, new bytes). */
function scaleLoraB(file: string, by: number): void {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const [name, t] of Object.entries(header)) {
    if (!name.includes('lora_B')) continue;
    expect(t.dtype).toBe('F32');
    for (let at = 8 + n + t.data_offsets[0]; at < 8 + n + t.data_offsets[1]; at += 4)
      view.setFloat32(at, view.getFloat32(at, true) * by, true);
  }
  writeFileSync(file, bytes);
}

describe('adapter stacks on a warm session', () => {
  let engine: Engine;
  let model: ModelHandle;
  beforeAll(async () => {
    engine = new Engine();
    model = await engine.open(BASE, { provider: 'cpu', maxPositions: 64 });
  });
  afterAll(() => engine.terminate());

  it('A → B → A → B: every switch gives the logits of a fresh session with that stack, bit for bit', async () => {
    const [freshA, freshB] = [await freshLogits(A), await freshLogits(B)];
    expect(freshB[0]).not.toEqual(freshA[0]);
    for (const [stack, fresh] of [
      [A, freshA],
      [B, freshB],
      [A, freshA],
      [B, freshB],
    ] as const) {
      await model.setAdapters(stack);
      expect((await forwardTrace(model, PROMPT, 2)).logits).toEqual(fresh);
    }
    // Back to no adapters and to the diff alone: kept stacks do not leak into others.
    await model.setAdapters([A[0]]);
    expect((await forwardTrace(model, PROMPT, 2)).logits).toEqual(await freshLogits([A[0]]));
  });

  it('a series of new diffs under one interpreter, past where kept stacks are reused: each as fresh', async () => {
    const diffs = [2, 3, 4, 5, 6, 7].map((by) => {
      const dir = copyFixture(join(TINY, 'qwen3-tiny-lora-r1'));
      scaleLoraB(join(dir, 'adapter_model.safetensors'), by);
      return [{ path: dir }, DIT];
    });
    const first: Float32Array[][] = [];
    for (const stack of diffs) {
      await model.setAdapters(stack);
      const logits = (await forwardTrace(model, PROMPT, 2)).logits;
      expect(logits).toEqual(await freshLogits(stack));
      first.push(logits);
    }
    // Back through them, latest first: the last four are kept as they were; the first ones' arrays
    // went to later stacks, and they are stacked again. The same logits either way.
    for (const i of [5, 4, 3, 2, 1, 0]) {
      await model.setAdapters(diffs[i]);
      expect((await forwardTrace(model, PROMPT, 2)).logits).toEqual(first[i]);
    }
  });

  it('reads an adapter again when its file changed on disk, and again when it changes back', async () => {
    const dir = copyFixture(join(TINY, 'qwen3-tiny-lora-r1'));
    const weights = join(dir, 'adapter_model.safetensors');
    const stack = [{ path: dir }, DIT];
    await model.setAdapters(stack);
    const original = (await forwardTrace(model, PROMPT, 2)).logits;
    expect(original).toEqual(await freshLogits(A));

    scaleLoraB(weights, 3);
    utimesSync(weights, new Date(), new Date(Date.now() + 5000));
    await model.setAdapters(stack);
    const changed = (await forwardTrace(model, PROMPT, 2)).logits;
    expect(changed[0]).not.toEqual(original[0]);
    expect(changed).toEqual(await freshLogits(stack));

    writeFileSync(weights, readFileSync(join(TINY, 'qwen3-tiny-lora-r1', 'adapter_model.safetensors')));
    utimesSync(weights, new Date(), new Date(Date.now() + 10000));
    await model.setAdapters(stack);
    expect((await forwardTrace(model, PROMPT, 2)).logits).toEqual(original);
  });
});

describe('SlotCache', () => {
  let options: ModelOptions;
  beforeAll(async () => {
    options = (await loadCheckpoint(BASE)).options;
  });

  /** A rank-`rank` adapter on every module of `layers` (all by default), values from `seed`. */
  function adapter(rank: number, seed: number, scale = 1 / rank, layers?: readonly number[]): LoraAdapter {
    let x = seed;
    const next = () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648 - 0.5;
    };
    const factors: LoraFactor[] = [];
    for (const layer of layers ?? Array.from({ length: options.numLayers }, (_, i) => i))
      for (const module of LINEAR_MODULES) {
        const { inFeatures, outFeatures } = linearShape(options, module);
        factors.push({
          layer,
          module,
          rank,
          inFeatures,
          outFeatures,
          A: Float32Array.from({ length: rank * inFeatures }, next),
          B: Float32Array.from({ length: outFeatures * rank }, next),
          scale,
        });
      }
    return { source: `adapter-${seed}`, factors };
  }

  /** What stacking `adapters` from nothing gives. */
  const stacked = (adapters: readonly LoraAdapter[]) => loraFeeds(adapters, options);
  /** A copy of every factor's values, to show later that nothing wrote into them. */
  const snapshot = (adapters: readonly LoraAdapter[]) =>
    adapters.map((a) => a.factors.map((f) => [f.A.slice(), f.B.slice()]));
  const values = (adapters: readonly LoraAdapter[]) => adapters.map((a) => a.factors.map((f) => [f.A, f.B]));

  const bytesOf = (feeds: readonly { data: { byteLength: number } }[]) =>
    feeds.reduce((n, f) => n + f.data.byteLength, 0);

  it('keeps recent stacks by their adapters, in order, and stacks again only what it dropped', () => {
    const [d, e, interp] = [adapter(1, 1), adapter(1, 2), adapter(8, 3)];
    const cache = new SlotCache(options);
    const dI = cache.feeds([d, interp]);
    const eI = cache.feeds([e, interp]);
    expect(cache.feeds([d, interp])).toBe(dI);
    expect(cache.feeds([e, interp])).toBe(eI);
    // The order is part of the stack; an adapter with the same values but read again is another.
    const Id = cache.feeds([interp, d]);
    expect(Id).not.toBe(dI);
    expect(Id.map((f) => f.dims)).toEqual(dI.map((f) => f.dims));
    const again = cache.feeds([{ ...d }, interp]);
    expect(again).not.toBe(dI);
    expect(again).toEqual(dI);
    expect(cache.stats.stacks).toBe(4);
  });

  it('stays within its byte budget, dropping the least recently used; a dropped stack comes back equal', () => {
    const adapters = Array.from({ length: 6 }, (_, i) => adapter(4, 10 + i));
    const size = bytesOf(new SlotCache(options).feeds([adapters[0]]));
    const cache = new SlotCache(options, 3 * size);
    const first = adapters.map((a) => cache.feeds([a]));
    expect(cache.stats).toEqual({ stacks: 3, bytes: 3 * size });
    // 3, 4, 5 are kept (the same inputs back); 0 was dropped and is stacked again, to equal values.
    for (const i of [3, 4, 5]) expect(cache.feeds([adapters[i]])).toBe(first[i]);
    const back = cache.feeds([adapters[0]]);
    expect(back).not.toBe(first[0]);
    expect(back).toEqual(first[0]);
    expect(cache.stats).toEqual({ stacks: 3, bytes: 3 * size });
    // 3 was the least recent of the three (used first): it went when 0 came back; 4 stayed.
    expect(cache.feeds([adapters[4]])).toBe(first[4]);
    expect(cache.feeds([adapters[3]])).not.toBe(first[3]);
  });

  it('always keeps the current stack and the one before it, even past the budget', () => {
    const [d, e, f] = [adapter(2, 21), adapter(2, 22), adapter(2, 23)];
    const cache = new SlotCache(options, 1);
    const dFeeds = cache.feeds([d]);
    const eFeeds = cache.feeds([e]);
    expect(cache.feeds([d])).toBe(dFeeds);
    expect(cache.feeds([e])).toBe(eFeeds);
    cache.feeds([f]);
    expect(cache.stats.stacks).toBe(2);
    expect(cache.feeds([e])).toBe(eFeeds);
    expect(cache.feeds([d])).not.toBe(dFeeds);
  });
  it('stacks a new diff under a kept interpreter from the kept values: the same as stacking it afresh', () => {
    // The interpreter on layer 0 only: the other layers' slots hold the diff alone (rank 1, scale 1).
    const interp = adapter(8, 30, 1 / 8, [0]);
    const diffs = Array.from({ length: 4 }, (_, i) => adapter(1, 31 + i, 1));
    const before = snapshot([interp, ...diffs]);
    const cache = new SlotCache(options);
    const kept = diffs.map((d) => cache.feeds([d, interp]));
    const under = diffs.map((d) => cache.feeds([interp, d]));
    diffs.forEach((d, i) => {
      expect(cache.feeds([d, interp])).toBe(kept[i]);
      expect(kept[i]).toEqual(stacked([d, interp]));
      expect(under[i]).toEqual(stacked([interp, d]));
    });
    expect(values([interp, ...diffs])).toEqual(before);
  });

  it('keeps four stacks of one layout; a fifth takes over the arrays of the least recently used', () => {
    const interp = adapter(8, 50);
    const diffs = Array.from({ length: 5 }, (_, i) => adapter(1, 51 + i, 1));
    const cache = new SlotCache(options);
    const kept = diffs.slice(0, 4).map((d) => cache.feeds([d, interp]));
    const data = (feeds: readonly { data: unknown }[]) => new Set(feeds.map((f) => f.data));
    const fifth = cache.feeds([diffs[4], interp]);
    expect(cache.stats.stacks).toBe(4);
    expect([...data(fifth)].every((x) => data(kept[0]).has(x))).toBe(true);
    expect(fifth).toEqual(stacked([diffs[4], interp]));
    for (const [i, feeds] of kept.slice(1).entries()) {
      expect(cache.feeds([diffs[i + 1], interp])).toBe(feeds);
      expect(feeds).toEqual(stacked([diffs[i + 1], interp]));
    }
  });

  it('with a full budget, takes over the arrays of the least recently used stack laid out the same, never one in use', async () => {
    const interp = adapter(8, 40, 1 / 8, [0]);
    const diffs = Array.from({ length: 6 }, (_, i) => adapter(1, 41 + i, 1));
    const before = snapshot([interp, ...diffs]);
    const size = bytesOf(stacked([diffs[0], interp]));
    const cache = new SlotCache(options, 3 * size);
    const arrays = (feeds: readonly { data: unknown }[]) => new Set(feeds.map((f) => f.data));
    const shares = (a: readonly { data: unknown }[], b: readonly { data: unknown }[]) =>
      [...arrays(a)].some((x) => arrays(b).has(x));
    const s0 = cache.feeds([diffs[0], interp]);
    const s1 = cache.feeds([diffs[1], interp]);
    const s2 = cache.feeds([diffs[2], interp]);
    expect(cache.stats).toEqual({ stacks: 3, bytes: 3 * size });
    // Full: the fourth reuses the arrays of the first, which is no longer kept.
    const s3 = cache.feeds([diffs[3], interp]);
    expect(shares(s3, s0)).toBe(true);
    expect(cache.stats).toEqual({ stacks: 3, bytes: 3 * size });
    expect(s3).toEqual(stacked([diffs[3], interp]));
    for (const [i, s] of [s1, s2].entries()) {
      expect(cache.feeds([diffs[i + 1], interp])).toBe(s);
      expect(s).toEqual(stacked([diffs[i + 1], interp]));
    }
    // Least recent first: s3, s2, s1 (current). A run reads s3: the next stack takes s2's arrays.
    cache.feeds([diffs[2], interp]);
    cache.feeds([diffs[1], interp]);
    await cache.reading(s3, async () => {
      const s4 = cache.feeds([diffs[4], interp]);
      expect(shares(s4, s3)).toBe(false);
      expect(shares(s4, s2)).toBe(true);
      expect(s4).toEqual(stacked([diffs[4], interp]));
      expect(s3).toEqual(stacked([diffs[3], interp]));
    });
    expect(cache.feeds([diffs[0], interp])).toEqual(stacked([diffs[0], interp]));
    // No adapter's own values were written over (the diffs' slots on layers 1… are their arrays).
    expect(values([interp, ...diffs])).toEqual(before);
  });
});
