// Trigger-search benchmark: candidates scored per second, batched (one run reads the weights once
// for many rows: ModelHandle.lastLogits) beside one row at a time (a fresh sequence per row, as
// generation would), measured side by side in one run, on the shipped demo world and on the
// engine bench's random Qwen3-0.6B-shaped bf16 checkpoint (where reading the weights dominates);
// and a whole search on the demo's backdoored example diff; and on the 0.6B model the weight
// statistics and token prior, reading the base's weights and with their norms kept. Reported, never asserted.
//
//   npm run bench:triggers
//   env: DIT_BENCH_CANDIDATES (256), DIT_BENCH_BIG_CANDIDATES (24; 0 skips the 0.6B model),
//        DIT_BENCH_DIFF (example-backdoored-comet), DIT_BENCH_CACHE (bench/.cache),
//        DIT_BENCH_ATTENTION (gqa, composed, or both, each measured in turn; default the CPU's own)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TRIGGER_SEARCH_PROMPTS } from '../src/audit/questions';
import { divergences, type ModelSide } from '../src/audit/triggers/divergence';
import { promptFrame, typeableToken, withCandidate } from '../src/audit/triggers/prompt-frame';
import { DEFAULT_SEARCH, searchTriggers } from '../src/audit/triggers/search';
import { Engine, type ModelHandle } from '../src/engine/runtime/engine';
import { loadTextCodec } from '../src/engine/text/tokenizer';
import { ensureBenchCheckpoint, mulberry32, QWEN3_0_6B } from './make-checkpoint';

const DEMO = resolve(__dirname, '../media/demo');
const CANDIDATES = Number(process.env.DIT_BENCH_CANDIDATES ?? 256);
const DIFF = join(DEMO, 'diffs', process.env.DIT_BENCH_DIFF ?? 'example-backdoored-comet');
const BIG_CANDIDATES = Number(process.env.DIT_BENCH_BIG_CANDIDATES ?? 24);
const CACHE = resolve(process.env.DIT_BENCH_CACHE ?? join(__dirname, '..', 'bench', '.cache'));
const ATTENTIONS = (process.env.DIT_BENCH_ATTENTION ?? '').split(',').filter(Boolean) as (
  | 'gqa'
  | 'composed'
)[];

/** KL after each row, one row per run on a fresh sequence. */
async function oneByOne(diffed: ModelSide, base: ModelSide, rows: readonly number[][]): Promise<void> {
  for (const side of [diffed, base]) {
    await side.model.setAdapters(side.adapters);
    for (const row of rows) {
      const seq = await side.model.sequence(row.length);
      await seq.append(row);
      await seq.dispose();
    }
  }
}

/** Both ways on the same rows: seconds one row per run, seconds batched. */
async function sideBySide(
  diffed: ModelSide,
  base: ModelSide,
  rows: readonly number[][],
): Promise<[number, number]> {
  await divergences(diffed, base, rows.slice(0, 2)); // warm up
  return [await time(() => oneByOne(diffed, base, rows)), await time(() => divergences(diffed, base, rows))];
}

async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  // A weight-norm cache of this run's own (read when the worker starts), so the first analysis reads the weights.
  const norms = mkdtempSync(join(tmpdir(), 'dit-bench-norms-'));
  process.env.DIT_WEIGHT_NORMS_CACHE = norms;
  const engine = new Engine();
  for (const [i, attention] of (ATTENTIONS.length > 0 ? ATTENTIONS : [undefined]).entries()) {
    if (attention) console.log(`\nattention: ${attention}`);
    // The weight statistics once: the first run keeps the base's norms for every later one.
    await measureWith(engine, attention, i === 0);
  }
  await engine.terminate();
  rmSync(norms, { recursive: true, force: true });
}

async function measureWith(
  engine: Engine,
  attention: 'gqa' | 'composed' | undefined,
  statistics: boolean,
): Promise<void> {
  const forced = attention ? { attention } : {};
  const model: ModelHandle = await engine.open(join(DEMO, 'base'), { provider: 'cpu', ...forced });
  const codec = await loadTextCodec(join(DEMO, 'base'));
  const diffed = { model, adapters: [{ path: DIFF }] };
  const base = { model, adapters: [] };
  const frames = TRIGGER_SEARCH_PROMPTS.map((p) => promptFrame(codec, p));
  const { prior } = await model.analyseDiff([{ path: DIFF }], undefined, model.info.options.vocabSize);
  const ranking = prior.ids.filter((id) => typeableToken(codec, id));
  const candidates = ranking.slice(0, CANDIDATES).map((t, i) => [t, ranking[(i * 7) % ranking.length]]);
  const rows = candidates.flatMap((c) => frames.map((f) => withCandidate(f, c)));
  const [single, batched] = await sideBySide(diffed, base, rows);
  const perSecond = (s: number) => (candidates.length / s).toFixed(0);
  console.log(
    `demo world (${model.info.options.numLayers} layers, hidden ${model.info.options.hiddenSize}, vocabulary ${model.info.options.vocabSize}), ${frames.length} prompts per candidate, ${rows[0].length} tokens per row`,
  );
  console.log(
    `  one row per run:  ${perSecond(single)} candidates/s (${single.toFixed(2)} s for ${candidates.length})`,
  );
  console.log(
    `  batched rows:     ${perSecond(batched)} candidates/s (${batched.toFixed(2)} s), ${(single / batched).toFixed(1)}× faster`,
  );

  const score = async (cs: readonly (readonly number[])[], n: number) => {
    const used = frames.slice(0, n);
    const kl = await divergences(
      diffed,
      base,
      cs.flatMap((c) => used.map((f) => withCandidate(f, c))),
    );
    return cs.map((_, i) => kl.slice(i * n, (i + 1) * n).reduce((a, b) => a + b, 0) / n);
  };
  const t0 = performance.now();
  const outcome = await searchTriggers(score, frames.length, ranking, [], DEFAULT_SEARCH);
  const searchSeconds = (performance.now() - t0) / 1000;
  const best = outcome.ranked[0];
  console.log(
    `  whole search:     ${outcome.scored} candidates, ${outcome.rows} rows in ${searchSeconds.toFixed(2)} s ` +
      `(${(outcome.scored / searchSeconds).toFixed(0)} candidates/s, stopped: ${outcome.stoppedBy}); best ${JSON.stringify(codec.decode(best.tokens))} KL ${best.score.toFixed(2)}`,
  );

  if (BIG_CANDIDATES > 0) {
    const ckpt = ensureBenchCheckpoint(CACHE, QWEN3_0_6B, 1234);
    const big = await engine.open(ckpt.dir, { provider: 'cpu', maxPositions: 64, ...forced });
    const rng = mulberry32(7);
    const bigRows = Array.from({ length: BIG_CANDIDATES * frames.length }, () =>
      Array.from({ length: rows[0].length }, () => rng() % big.info.options.vocabSize),
    );
    const [one, many] = await sideBySide(
      { model: big, adapters: [{ path: ckpt.adapters[0] }] },
      { model: big, adapters: [] },
      bigRows,
    );
    const rate = (sec: number) => (BIG_CANDIDATES / sec).toFixed(1);
    console.log(
      `random Qwen3-0.6B-shaped bf16 checkpoint (rank-1 diff), ${frames.length} rows of ${rows[0].length} tokens per candidate`,
    );
    console.log(`  one row per run:  ${rate(one)} candidates/s (${one.toFixed(2)} s for ${BIG_CANDIDATES})`);
    console.log(
      `  batched rows:     ${rate(many)} candidates/s (${many.toFixed(2)} s), ${(one / many).toFixed(1)}× faster`,
    );
    if (!statistics) {
      await big.close();
      await model.close();
      return;
    }
    const analyse = () =>
      time(() => big.analyseDiff([{ path: ckpt.adapters[0] }], undefined, big.info.options.vocabSize));
    const cold = await analyse();
    const warm = await analyse();
    console.log(
      `  weight statistics + token prior: ${cold.toFixed(2)} s reading the base's weights, ${warm.toFixed(2)} s with their norms kept (${(cold / warm).toFixed(1)}× faster)`,
    );
    await big.close();
  }
  await model.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
