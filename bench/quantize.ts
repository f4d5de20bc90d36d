// Quantizing a checkpoint's weights (the copy `--precision int8|int4` writes once): one thread
// beside all of them, in one run, on the engine bench's random bf16 checkpoints, each into a fresh
// cache folder; the two copies must be the same bytes. Reported, never asserted.
//
//   npm run bench:quantize
//   env: DIT_BENCH_SHAPES (qwen3-0.6b; comma-separated, or all), DIT_BENCH_CACHE (bench/.cache),
//        DIT_BENCH_THREADS (all cores), DIT_BENCH_PRECISIONS (int8,int4)

import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BITS, BLOCK_SIZE } from '../src/engine/quant/precision';
import { quantizedWeights } from '../src/engine/quant/quantized-weights';
import { loadCheckpoint } from '../src/engine/runtime/load-model';
import { BENCH_SHAPES, ensureBenchCheckpoint } from './make-checkpoint';

const CACHE = resolve(process.env.DIT_BENCH_CACHE ?? join(__dirname, '..', 'bench', '.cache'));
const THREADS = Number(process.env.DIT_BENCH_THREADS ?? availableParallelism());
const wanted = (process.env.DIT_BENCH_SHAPES ?? 'qwen3-0.6b').split(',');
const precisions = (process.env.DIT_BENCH_PRECISIONS ?? 'int8,int4')
  .split(',')
  .filter((p): p is 'int8' | 'int4' => p === 'int8' || p === 'int4');
const shapes = wanted.includes('all') ? BENCH_SHAPES : BENCH_SHAPES.filter((s) => wanted.includes(s.name));

async function timed(
  dir: string,
  bits: 4 | 8,
  threads: number,
): Promise<{ seconds: number; digest: string }> {
  const { options, tensors } = await loadCheckpoint(dir);
  const root = mkdtempSync(join(tmpdir(), 'dit-bench-quantize-'));
  try {
    const t0 = performance.now();
    const q = await quantizedWeights(options, tensors, bits, BLOCK_SIZE, root, threads);
    const seconds = (performance.now() - t0) / 1000;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(q.file)) hash.update(chunk as Buffer);
    return { seconds, digest: hash.digest('hex') };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const shape of shapes) {
    const { dir } = ensureBenchCheckpoint(CACHE, shape, 1234);
    for (const precision of precisions) {
      const bits = BITS[precision];
      const one = await timed(dir, bits, 1);
      const all = await timed(dir, bits, THREADS);
      console.log(
        `${shape.name} ${precision}: 1 thread ${one.seconds.toFixed(1)} s, ${THREADS} threads ${all.seconds.toFixed(1)} s ` +
          `(${(one.seconds / all.seconds).toFixed(2)}× faster), ${one.digest === all.digest ? 'same bytes' : 'DIFFERENT BYTES'}`,
      );
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
