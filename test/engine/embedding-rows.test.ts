// The embedding rows a run feeds, read from the checkpoint file (runtime/embedding-rows.ts): the
// table's own values in every stored dtype, and a clear refusal where the file cannot serve them.
import { copyFileSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/checkpoint/types';
import { EmbeddingRows } from '../../src/engine/runtime/embedding-rows';
import { loadCheckpoint } from '../../src/engine/runtime/load-model';
import { freshDirs } from './helpers';
import { TINY } from './paths';

const fresh = freshDirs('dit-embedding-rows-');

function copyOf(name: string): string {
  const dir = fresh();
  for (const f of readdirSync(join(TINY, name))) copyFileSync(join(TINY, name, f), join(dir, f));
  return dir;
}

describe('embedding rows read from the checkpoint', () => {
  // qwen3-tiny: bf16 in two shards; qwen2-tiny: float16; llama-tiny: float32.
  for (const name of ['qwen3-tiny', 'qwen2-tiny', 'llama-tiny']) {
    it(`gives the table's rows in the order asked, repeats included (${name})`, async () => {
      const { options, tensors } = await loadCheckpoint(join(TINY, name));
      const table = await tensors.readFloat32('model.embed_tokens.weight');
      const rows = await EmbeddingRows.open(options, tensors);
      try {
        const h = options.hiddenSize;
        const ids = [options.vocabSize - 1, 0, 7, 7, 3];
        const got = rows.rows(ids);
        expect(rows.width).toBe(h);
        expect(got).toHaveLength(ids.length * h);
        ids.forEach((id, i) => {
          expect(Array.from(got.subarray(i * h, (i + 1) * h))).toEqual(
            Array.from(table.subarray(id * h, (id + 1) * h)),
          );
        });
      } finally {
        await rows.close();
      }
    });
  }

  it('gives a range of consecutive rows in one read, as the table holds them', async () => {
    const { options, tensors } = await loadCheckpoint(join(TINY, 'qwen3-tiny'));
    const table = await tensors.readFloat32('model.embed_tokens.weight');
    const rows = await EmbeddingRows.open(options, tensors);
    try {
      const h = options.hiddenSize;
      const from = options.vocabSize - 5;
      expect(Array.from(rows.range(from, 5))).toEqual(Array.from(table.subarray(from * h)));
      expect(Array.from(rows.range(0, 1))).toEqual(Array.from(table.subarray(0, h)));
    } finally {
      await rows.close();
    }
  });

  it('refuses a table whose shape is not the config’s, and a file that ends before it', async () => {
    const { options, tensors } = await loadCheckpoint(join(TINY, 'llama-tiny'));
    const wider = { ...options, hiddenSize: options.hiddenSize + 1 };
    await expect(EmbeddingRows.open(wider, tensors)).rejects.toThrow(
      /config\.json is inconsistent with the weights: vocab_size and hidden_size imply \[\d+, \d+\] for model\.embed_tokens\.weight/,
    );

    const dir = copyOf('llama-tiny');
    const copy = await loadCheckpoint(dir);
    const ref = copy.tensors.get('model.embed_tokens.weight');
    if (!ref) throw new Error('llama-tiny has no embedding');
    truncateSync(ref.file, ref.offset + ref.byteLength - 1);
    const error = await EmbeddingRows.open(copy.options, copy.tensors).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(String(error)).toMatch(/ends before tensor model\.embed_tokens\.weight does/);
  });

  it('says so when the file is cut short after it was opened', async () => {
    const dir = copyOf('llama-tiny');
    const { options, tensors } = await loadCheckpoint(dir);
    const ref = tensors.get('model.embed_tokens.weight');
    if (!ref) throw new Error('llama-tiny has no embedding');
    const rows = await EmbeddingRows.open(options, tensors);
    try {
      const bytes = readFileSync(ref.file);
      writeFileSync(ref.file, bytes.subarray(0, ref.offset + options.hiddenSize * 4));
      expect(rows.rows([0])).toHaveLength(options.hiddenSize);
      expect(() => rows.rows([1])).toThrow(
        /changed while the model was open: the embedding of token 1 is cut short/,
      );
    } finally {
      await rows.close();
    }
  });
});
