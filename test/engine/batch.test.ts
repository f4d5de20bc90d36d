// The batch dimension: many short rows scored in one run give the logits each row gets alone.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/checkpoint/types';
import { forwardTrace } from '../../src/engine/forward';
import { Engine } from '../../src/engine/runtime/engine';
import { TINY } from './paths';

const CASES = [
  { model: 'qwen3-tiny', adapters: ['qwen3-tiny-lora-r1', 'qwen3-tiny-dit'] },
  { model: 'llama-tiny', adapters: ['llama-tiny-lora-r4'] },
  { model: 'qwen2-tiny', adapters: [] },
  // Sliding-window layers of width 4: rows longer than the window.
  { model: 'gemma3-tiny', adapters: ['gemma3-tiny-lora-r1'] },
];

describe('batched last-position logits', () => {
  let engine: Engine;
  beforeAll(() => {
    engine = new Engine();
  });
  afterAll(() => engine.terminate());

  it.each(CASES)('$model: rows of mixed length, batched, match each row run alone', async (c) => {
    const model = await engine.open(join(TINY, c.model), { provider: 'cpu', maxPositions: 64 });
    await model.setAdapters(c.adapters.map((a) => ({ path: join(TINY, a) })));
    const vocab = model.info.options.vocabSize;
    const rows = [
      [5, 6, 7, 8, 9, 10, 11],
      [12, 13, 14, 15, 16, 17, 18],
      [3, 1, 4],
      [1, 5, 9, 2, 6, 5, 3],
      [2, 7, 1],
      [8],
    ];
    const batched = await model.lastLogits(rows);
    expect(batched).toHaveLength(rows.length * vocab);
    for (const [i, row] of rows.entries()) {
      const alone = (await forwardTrace(model, row, 0)).logits.at(-1) as Float32Array;
      const got = batched.subarray(i * vocab, (i + 1) * vocab);
      const scale = Math.max(...Array.from(alone, Math.abs));
      const err = Math.max(...Array.from(got, (v, j) => Math.abs(v - alone[j])));
      expect(err / scale).toBeLessThan(1e-5);
    }
    await model.close();
  });

  it('refuses a token outside the vocabulary and an empty row', async () => {
    const model = await engine.open(join(TINY, 'qwen2-tiny'), { provider: 'cpu' });
    await expect(
      model.lastLogits([
        [1, 2],
        [1, 1e9],
      ]),
    ).rejects.toBeInstanceOf(InputError);
    await expect(model.lastLogits([[1, 2], []])).rejects.toThrow(/empty row/);
    await model.close();
  });
});
