// The base weights' norms behind ‖ΔW‖/‖W‖: read once per checkpoint and kept on disk by its files'
// identity, so the next diff on the same base reads no weight; a checkpoint changed in place, or a
// cache file that is not one, is read again; and the statistics are the same either way.
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowRankStatistics } from '../../src/engine/analysis/diff-statistics';
import { l2, weightNorms } from '../../src/engine/analysis/weight-norms';
import { loadAdapter } from '../../src/engine/checkpoint/load-adapter';
import { tensorNames } from '../../src/engine/checkpoint/tensor-names';
import type { TensorSource } from '../../src/engine/checkpoint/types';
import { loadCheckpoint } from '../../src/engine/runtime/load-model';
import { copyFixture, tempDir } from './helpers';
import { TINY } from './paths';

/** The tensors, counting the reads. */
function counting(tensors: TensorSource): { source: TensorSource; reads: () => number } {
  let reads = 0;
  return {
    source: {
      files: tensors.files,
      get: (name) => tensors.get(name),
      names: () => tensors.names(),
      readFloat32: (name) => {
        reads++;
        return tensors.readFloat32(name);
      },
    },
    reads: () => reads,
  };
}

describe('weightNorms', () => {
  it('reads each weight once per checkpoint, then answers from its cache, and the statistics agree', async () => {
    const root = tempDir('dit-norms-');
    const model = await loadCheckpoint(join(TINY, 'qwen3-tiny'));
    const names = tensorNames(model.options.weightPrefix);
    const wanted = [names.linear(0, 'q_proj').weight, names.linear(1, 'down_proj').weight];
    const first = counting(model.tensors);
    const norms = await weightNorms(first.source, wanted, root);
    expect(first.reads()).toBe(2);
    for (const name of wanted) expect(norms.get(name)).toBe(l2(await model.tensors.readFloat32(name)));
    const again = counting(model.tensors);
    expect(await weightNorms(again.source, wanted, root)).toEqual(norms);
    expect(again.reads()).toBe(0);
    expect(readdirSync(root)).toHaveLength(1);

    const adapter = await loadAdapter({ path: join(TINY, 'qwen3-tiny-lora-r1') });
    const cold = await lowRankStatistics([adapter], model.options, model.tensors);
    const warm = await lowRankStatistics([adapter], model.options, model.tensors);
    expect(warm).toEqual(cold);
    expect(cold.cells.every((c) => c.relativeNorm > 0 && Number.isFinite(c.relativeNorm))).toBe(true);
  });

  it('reads again for a checkpoint changed in place, or a cache file that is not one', async () => {
    const root = tempDir('dit-norms-');
    const dir = copyFixture(join(TINY, 'qwen3-tiny'));
    const model = await loadCheckpoint(dir);
    const name = tensorNames(model.options.weightPrefix).linear(0, 'v_proj').weight;
    await weightNorms(model.tensors, [name], root);
    const [weights] = model.tensors.files;
    const later = new Date(Date.now() + 60_000);
    utimesSync(weights, later, later);
    const touched = counting((await loadCheckpoint(dir)).tensors);
    await weightNorms(touched.source, [name], root);
    expect(touched.reads()).toBe(1);

    for (const file of readdirSync(root)) writeFileSync(join(root, file), '{"key": 1, "norms": "no"');
    const broken = counting((await loadCheckpoint(dir)).tensors);
    const norms = await weightNorms(broken.source, [name], root);
    expect(broken.reads()).toBe(1);
    expect(norms.get(name)).toBe(l2(await model.tensors.readFloat32(name)));
  });
});
