// Engine benchmark: a random Qwen3-0.6B-shaped bf16 checkpoint through the real engine (worker
// thread, ORT session, KV cache, LoRA slots). Reports session creation, peak memory, prefill and
// decode speed, the cost of swapping a rank-1 diff (alone, and under a rank-16 interpreter), and
// decode time over the memory-bandwidth floor. Targets are reported, never asserted.
//
//   npm run bench:engine
//   env: DIT_BENCH_PROMPT (64), DIT_BENCH_STEPS (32), DIT_BENCH_SEED (1234), DIT_BENCH_CACHE,
//        DIT_BENCH_JSON (default <cache>/engine-bench.json), DIT_BENCH_LABEL, DIT_BENCH_THREADS,
//        DIT_BENCH_NO_BANDWIDTH=1 (skip the copy-bandwidth measurement)

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Engine, type ModelHandle, type SequenceHandle } from '../src/engine/runtime/engine';
import {
  ensureBenchCheckpoint,
  LINEAR,
  linearDims,
  mulberry32,
  QWEN3_0_6B,
  type Qwen3Shape,
} from './make-checkpoint';
import {
  type CopyBandwidth,
  CpuMeter,
  type CpuShare,
  copyBandwidth,
  fmtGB,
  fmtMiB,
  GiB,
  MemorySampler,
  median,
  type ProcMemory,
  parallelCopyBandwidth,
  procMemory,
  treePeak,
} from './measure';

const env = process.env;
const PROMPT = Number(env.DIT_BENCH_PROMPT ?? 64);
const STEPS = Number(env.DIT_BENCH_STEPS ?? 32);
const SEED = Number(env.DIT_BENCH_SEED ?? 1234);
const CACHE = resolve(env.DIT_BENCH_CACHE ?? resolve(__dirname, '..', 'bench', '.cache'));
const JSON_OUT = resolve(env.DIT_BENCH_JSON ?? resolve(CACHE, 'engine-bench.json'));
const THREADS = env.DIT_BENCH_THREADS ? Number(env.DIT_BENCH_THREADS) : undefined;
/** Swaps between stacks already set (A ⇄ B, [A, I] ⇄ [X, I]; odd), and diffs not read yet per case. */
const SWAPS = 5;
const NEW_DIFFS = 8;

function argmax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function allFinite(xs: Float32Array): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) return false;
  return true;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

interface RunResult {
  prefillMs: number;
  lastLogits: Float32Array;
  stepMs: number[];
  tokens: number[];
  finite: boolean;
}

/** Prefill `prompt`, then `steps` greedy tokens one at a time. */
async function generate(model: ModelHandle, prompt: readonly number[], steps: number): Promise<RunResult> {
  const seq: SequenceHandle = await model.sequence(prompt.length + steps);
  try {
    const [logits, prefillMs] = await timed(() => seq.append(prompt));
    let finite = allFinite(logits);
    const tokens: number[] = [];
    const stepMs: number[] = [];
    let next = argmax(logits);
    for (let s = 0; s < steps; s++) {
      tokens.push(next);
      const [l, ms] = await timed(() => seq.append([next]));
      stepMs.push(ms);
      finite &&= allFinite(l);
      next = argmax(l);
    }
    return { prefillMs, lastLogits: logits, stepMs, tokens, finite };
  } finally {
    await seq.dispose();
  }
}

/** f32 bytes one decoded token reads: every linear weight once, plus the (tied) LM head. */
function decodeBytes(s: Qwen3Shape, kvLength: number) {
  let linearParams = 0;
  for (const m of LINEAR) {
    const [out, inF] = linearDims(s, m);
    linearParams += out * inF;
  }
  linearParams *= s.numLayers;
  const lmHeadParams = s.vocabSize * s.hiddenSize;
  const weights = 4 * (linearParams + lmHeadParams);
  // Small extras, not in the floor: KV cache read at the mean context, norms, LoRA rank-1 factors.
  const kv = 4 * s.numLayers * 2 * s.numKvHeads * s.headDim * kvLength;
  return { linearParams, lmHeadParams, weights, kvAtMeanContext: kv };
}

function cpuModel(): string {
  return cpus()[0]?.model ?? 'unknown';
}

async function collect() {
  mkdirSync(CACHE, { recursive: true });
  const shape = QWEN3_0_6B;
  console.log(`checkpoint: ${CACHE} (seed ${SEED}) …`);
  const ckpt = ensureBenchCheckpoint(CACHE, shape, SEED, 2 * NEW_DIFFS - 1);
  console.log(
    ckpt.reused
      ? `  reused ${fmtGB(ckpt.fileBytes)}`
      : `  generated ${fmtGB(ckpt.fileBytes)} in ${(ckpt.generateMs / 1000).toFixed(1)} s`,
  );

  const engine = new Engine();
  // The worker loads onnxruntime-node at start; a request it must refuse proves it is up.
  await engine.request({ type: 'close', model: -1 }).catch(() => undefined);
  const baseline = procMemory();

  // ---- session creation ----
  const sampler = new MemorySampler(20).start();
  const openCpu = new CpuMeter();
  const [model, openMs] = await timed(() =>
    engine.open(ckpt.dir, { provider: 'cpu', ...(THREADS ? { threads: THREADS } : {}) }),
  );
  const openPeak = sampler.stop();
  const cpu: Record<string, CpuShare> = { open: openCpu.stop() };
  const afterOpen = procMemory();
  console.log(`  Engine.open ${(openMs / 1000).toFixed(1)} s`);

  // ---- first adapter (the diff under audit) ----
  const [firstLoad, firstLoadWallMs] = await timed(() => model.setAdapters([{ path: ckpt.adapters[0] }]));
  const afterAdapters = procMemory();

  // ---- prefill + decode: a cold run (first inference), then a warm one ----
  const rand = mulberry32(SEED + 100);
  const prompt = Array.from({ length: PROMPT }, () => rand() % shape.vocabSize);
  const runSampler = new MemorySampler(20).start();
  let meter = new CpuMeter();
  const cold = await generate(model, prompt, STEPS);
  cpu.coldRun = meter.stop();
  const afterCold = procMemory();
  console.log(
    `  cold run: prefill ${cold.prefillMs.toFixed(0)} ms, decode median ${median(cold.stepMs).toFixed(0)} ms/token`,
  );
  meter = new CpuMeter();
  const warm = await generate(model, prompt, STEPS);
  cpu.warmRun = meter.stop();
  const runPeak = runSampler.stop();
  const afterWarm = procMemory();
  console.log(
    `  warm run: prefill ${warm.prefillMs.toFixed(0)} ms, decode median ${median(warm.stepMs).toFixed(0)} ms/token`,
  );

  // ---- swapping the diff ----
  // Four cases, timed apart (wall: round trip through the worker; worker: its own time):
  //   new diff:                 [X] for a diff X the engine has not read yet (a file read + the slots);
  //   new diff + interpreter:   [X, I] with the interpreter I already read (the audit's case);
  //   switch read stacks:       [X, I] ⇄ [Y, I], the last two set (nothing to read or stack);
  //   switch read diffs:        [A] ⇄ [B], both set before.
  meter = new CpuMeter();
  const lap = async (refs: { path: string }[], wall: number[], worker: number[]) => {
    const [r, ms] = await timed(() => model.setAdapters(refs));
    wall.push(ms);
    worker.push(r.ms);
  };
  const diffs = ckpt.adapters;
  const interp = { path: ckpt.interpreter };
  const newWallMs: number[] = [];
  const newWorkerMs: number[] = [];
  await lap([{ path: diffs[1] }], newWallMs, newWorkerMs);
  const swapped = await generate(model, prompt, 2);
  for (const dir of diffs.slice(2, 1 + NEW_DIFFS)) await lap([{ path: dir }], newWallMs, newWorkerMs);

  // The interpreter's first stack reads it; then new diffs under it.
  const [firstStack, firstStackWallMs] = await timed(() => model.setAdapters([{ path: diffs[0] }, interp]));
  const stackedOnA = await generate(model, prompt, 0);
  const newStackWallMs: number[] = [];
  const newStackWorkerMs: number[] = [];
  const series = diffs.slice(1 + NEW_DIFFS, 1 + 2 * NEW_DIFFS);
  let stackedOnX: RunResult | undefined;
  for (const [k, dir] of series.entries()) {
    await lap([{ path: dir }, interp], newStackWallMs, newStackWorkerMs);
    if (k === series.length - 2) stackedOnX = await generate(model, prompt, 0);
  }

  // The last two stacks of the series: X ⇄ Y, as an A ⇄ B comparison under the interpreter does.
  const [x, y] = series.slice(-2);
  const stackSwapWallMs: number[] = [];
  const stackSwapWorkerMs: number[] = [];
  for (let i = 0; i < SWAPS; i++)
    await lap([{ path: i % 2 === 0 ? x : y }, interp], stackSwapWallMs, stackSwapWorkerMs);
  // Alternates [X, I], [Y, I], …; SWAPS is odd, so it ends on [X, I]: the same logits as its first run?
  const backOnStack = await generate(model, prompt, 0);
  // [A, I] again, long since dropped or written over by later stacks: stacked again, the same logits?
  const [, restackWallMs] = await timed(() => model.setAdapters([{ path: diffs[0] }, interp]));
  const backOnAWithInterpreter = await generate(model, prompt, 0);

  const swapWallMs: number[] = [];
  const swapWorkerMs: number[] = [];
  for (let i = 0; i < SWAPS; i++) await lap([{ path: diffs[i % 2 === 0 ? 0 : 1] }], swapWallMs, swapWorkerMs);
  // Alternates A, B, A, …; it ends on A: the same logits as the first A run?
  const backOnA = await generate(model, prompt, 0);
  const afterSwaps = procMemory();
  cpu.swaps = meter.stop();

  // ---- peaks, before anything else allocates ----
  const usage = process.resourceUsage();
  const tree = treePeak();
  const end = procMemory();

  await model.close();
  await engine.terminate();

  // ---- bandwidth floor (after the peaks are read: its 2 GiB must not count) ----
  let copy1: CopyBandwidth | null = null;
  let copy2: CopyBandwidth | null = null;
  if (env.DIT_BENCH_NO_BANDWIDTH !== '1') {
    console.log('  measuring copy bandwidth …');
    meter = new CpuMeter();
    copy1 = copyBandwidth(GiB, 5);
    copy2 = await parallelCopyBandwidth(2, GiB, 5);
    cpu.bandwidth = meter.stop();
  }

  // ---- figures ----
  const meanContext = PROMPT + STEPS / 2;
  const bytes = decodeBytes(shape, meanContext);
  const decodeMedianMs = median(warm.stepMs);
  const floor = (c: CopyBandwidth | null) =>
    c
      ? {
          floorMs: (bytes.weights / c.readWriteBytesPerS) * 1000,
          ratio: decodeMedianMs / ((bytes.weights / c.readWriteBytesPerS) * 1000),
        }
      : null;
  const floor1 = floor(copy1);
  const floor2 = floor(copy2);
  const newMedianMs = median(newWallMs);
  const newStackMedianMs = median(newStackWallMs);
  const stackSwapMedianMs = median(stackSwapWallMs);
  const cachedMedianMs = median(swapWallMs);
  const peak = Math.max(end.hwm, usage.maxRSS * 1024);
  const f32Weights = ckpt.tensorBytes * 2;
  const kvBytes = 4 * shape.numLayers * 2 * shape.numKvHeads * shape.headDim * (PROMPT + STEPS);
  const ropeBytes = 2 * model.info.maxPositions * (shape.headDim / 2) * 4;

  const result = {
    label: env.DIT_BENCH_LABEL ?? 'engine',
    when: new Date().toISOString(),
    machine: { cpu: cpuModel(), cores: cpus().length, node: process.version },
    cpu,
    provider: model.info.provider,
    checkpoint: {
      dir: ckpt.dir,
      reused: ckpt.reused,
      generateMs: ckpt.generateMs,
      fileBytes: ckpt.fileBytes,
      bf16Bytes: ckpt.tensorBytes,
    },
    session: {
      openWallMs: openMs,
      buildMs: model.info.timings.buildMs,
      ortSessionMs: model.info.timings.sessionMs,
      otherMs: openMs - model.info.timings.buildMs - model.info.timings.sessionMs,
    },
    memory: {
      baseline,
      afterOpen,
      afterAdapters,
      afterColdRun: afterCold,
      afterWarmRun: afterWarm,
      afterSwaps,
      openPhase: { ...openPeak, timeline: sampler.timeline },
      runPhase: runPeak,
      peakVmHWM: end.hwm,
      resourceUsageMaxRss: usage.maxRSS * 1024,
      processTree: tree,
      peakOverBf16: peak / ckpt.tensorBytes,
      expected: { f32Weights, kvCacheOneSequence: kvBytes, ropeTables: ropeBytes },
    },
    prefill: {
      tokens: PROMPT,
      coldMs: cold.prefillMs,
      warmMs: warm.prefillMs,
      tokPerS: PROMPT / (warm.prefillMs / 1000),
    },
    decode: {
      steps: STEPS,
      coldStepMs: cold.stepMs,
      warmStepMs: warm.stepMs,
      medianMs: decodeMedianMs,
      bestMs: Math.min(...warm.stepMs),
      meanMs: warm.stepMs.reduce((a, b) => a + b, 0) / warm.stepMs.length,
      tokPerS: 1000 / decodeMedianMs,
      logitsFinite: cold.finite && warm.finite && swapped.finite && stackedOnA.finite,
      sameTokensColdWarm: cold.tokens.join() === warm.tokens.join(),
    },
    swap: {
      firstLoadWallMs,
      firstLoadWorkerMs: firstLoad.ms,
      newDiffWallMs: newWallMs,
      newDiffWorkerMs: newWorkerMs,
      newDiffMedianWallMs: newMedianMs,
      pctOfSessionCreation: (100 * newMedianMs) / openMs,
      firstInterpreterStackWallMs: firstStackWallMs,
      firstInterpreterStackWorkerMs: firstStack.ms,
      newDiffWithInterpreterWallMs: newStackWallMs,
      newDiffWithInterpreterWorkerMs: newStackWorkerMs,
      newDiffWithInterpreterMedianWallMs: newStackMedianMs,
      newDiffWithInterpreterPctOfSessionCreation: (100 * newStackMedianMs) / openMs,
      readStackSwitchWallMs: stackSwapWallMs,
      readStackSwitchWorkerMs: stackSwapWorkerMs,
      readStackSwitchMedianWallMs: stackSwapMedianMs,
      cachedWallMs: swapWallMs,
      cachedWorkerMs: swapWorkerMs,
      cachedMedianWallMs: cachedMedianMs,
      cachedPctOfSessionCreation: (100 * cachedMedianMs) / openMs,
      prefillAfterSwapMs: swapped.prefillMs,
      logitsMaxAbsDiffAvsB: maxAbsDiff(cold.lastLogits, swapped.lastLogits),
      logitsMaxAbsDiffBackOnA: maxAbsDiff(cold.lastLogits, backOnA.lastLogits),
      logitsMaxAbsDiffAvsAWithInterpreter: maxAbsDiff(cold.lastLogits, stackedOnA.lastLogits),
      logitsMaxAbsDiffBackOnStack: stackedOnX
        ? maxAbsDiff(stackedOnX.lastLogits, backOnStack.lastLogits)
        : NaN,
      restackDroppedWallMs: restackWallMs,
      logitsMaxAbsDiffRestackedAWithInterpreter: maxAbsDiff(
        stackedOnA.lastLogits,
        backOnAWithInterpreter.lastLogits,
      ),
    },
    floor: {
      bytesPerToken: bytes.weights,
      linearParams: bytes.linearParams,
      lmHeadParams: bytes.lmHeadParams,
      kvBytesAtMeanContext: bytes.kvAtMeanContext,
      convention:
        'copy bandwidth = (bytes read + bytes written) / time, as STREAM Copy; decode reads weights once',
      copy1Thread: copy1,
      copy2Threads: copy2,
      oneThread: floor1,
      twoThreads: floor2,
    },
  };
  return result;
}

type BenchResult = Awaited<ReturnType<typeof collect>>;

async function main(): Promise<void> {
  const result = await collect();
  mkdirSync(dirname(JSON_OUT), { recursive: true });
  writeFileSync(JSON_OUT, `${JSON.stringify(result, null, 2)}\n`);
  printTable(result);
  console.log(`\nJSON: ${JSON_OUT}`);
}

function printTable(r: BenchResult): void {
  const s = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  const range = (xs: readonly number[]) => `${s(Math.min(...xs))}–${s(Math.max(...xs))}`;
  const m = r.memory;
  const mem = (p: ProcMemory) => `${fmtMiB(p.rss)} (anon ${fmtMiB(p.anon)}, file ${fmtMiB(p.file)})`;
  const delta = (a: ProcMemory, b: ProcMemory) => `${b.rss - a.rss >= 0 ? '+' : ''}${fmtMiB(b.rss - a.rss)}`;
  const rows: [string, string, string][] = [
    [
      'machine',
      `${r.machine.cpu}, ${r.machine.cores} cores, node ${r.machine.node}, EP ${r.provider.provider}`,
      '',
    ],
    [
      'checkpoint',
      `${fmtGB(r.checkpoint.bf16Bytes)} bf16 tensors (${r.checkpoint.reused ? 'reused' : `generated in ${s(r.checkpoint.generateMs)}`})`,
      '',
    ],
    [
      'session creation',
      `Engine.open ${s(r.session.openWallMs)} = build ${s(r.session.buildMs)} + ORT create ${s(r.session.ortSessionMs)} + other ${s(r.session.otherMs)}`,
      '',
    ],
    ['RSS baseline', mem(m.baseline), 'node + worker + ORT loaded'],
    [
      'RSS after open',
      `${mem(m.afterOpen)} ${delta(m.baseline, m.afterOpen)}`,
      `f32 weights = ${fmtMiB(m.expected.f32Weights)}`,
    ],
    [
      'RSS during open',
      `peak ${fmtMiB(m.openPhase.maxRss)} at ${s(m.openPhase.atMs)} (max anon ${fmtMiB(m.openPhase.maxAnon)}, max file ${fmtMiB(m.openPhase.maxFile)})`,
      '',
    ],
    ['RSS after setAdapters', `${mem(m.afterAdapters)} ${delta(m.afterOpen, m.afterAdapters)}`, ''],
    [
      'RSS after cold run',
      `${mem(m.afterColdRun)} ${delta(m.afterAdapters, m.afterColdRun)}`,
      `KV of one sequence = ${fmtMiB(m.expected.kvCacheOneSequence)}`,
    ],
    ['RSS after warm run', `${mem(m.afterWarmRun)} ${delta(m.afterColdRun, m.afterWarmRun)}`, ''],
    [
      'peak RSS',
      `VmHWM ${fmtMiB(m.peakVmHWM)}, getrusage maxRSS ${fmtMiB(m.resourceUsageMaxRss)}; ${m.processTree.childCount} child processes (+${fmtMiB(m.processTree.children)})`,
      '',
    ],
    [
      'peak RSS / bf16 bytes',
      `${m.peakOverBf16.toFixed(2)}×`,
      `target < 3× → ${m.peakOverBf16 < 3 ? 'met' : 'NOT met'}`,
    ],
    [
      `prefill (${r.prefill.tokens} tok)`,
      `${r.prefill.tokPerS.toFixed(1)} tok/s (warm ${s(r.prefill.warmMs)}, cold ${s(r.prefill.coldMs)})`,
      '',
    ],
    [
      `decode (${r.decode.steps} steps)`,
      `${r.decode.tokPerS.toFixed(2)} tok/s (median ${s(r.decode.medianMs)}/token, best ${s(r.decode.bestMs)}, mean ${s(r.decode.meanMs)}; cold median ${s(median(r.decode.coldStepMs))})`,
      `logits finite: ${r.decode.logitsFinite}`,
    ],
    [
      'diff swap, new diff',
      `${s(r.swap.newDiffMedianWallMs)} median (${range(r.swap.newDiffWallMs)}) of ${r.swap.newDiffWallMs.length} rank-1 diffs not read before (worker ${s(median(r.swap.newDiffWorkerMs))}; first adapter ${s(r.swap.firstLoadWallMs)})`,
      `${r.swap.pctOfSessionCreation.toFixed(2)}% of creation`,
    ],
    [
      'new diff + interpreter',
      `${s(r.swap.newDiffWithInterpreterMedianWallMs)} median (${range(r.swap.newDiffWithInterpreterWallMs)}) of ${r.swap.newDiffWithInterpreterWallMs.length} [new rank-1 diff, read rank-16 interpreter] stacks (worker ${s(median(r.swap.newDiffWithInterpreterWorkerMs))}; first with the interpreter ${s(r.swap.firstInterpreterStackWallMs)})`,
      `${r.swap.newDiffWithInterpreterPctOfSessionCreation.toFixed(2)}% of creation; target ≤ 5% → ${r.swap.newDiffWithInterpreterPctOfSessionCreation <= 5 ? 'met' : 'NOT met'}`,
    ],
    [
      'switch read stacks',
      `${s(r.swap.readStackSwitchMedianWallMs)} median (${range(r.swap.readStackSwitchWallMs)}) of ${r.swap.readStackSwitchWallMs.length} [X, I] ⇄ [Y, I] switches, the last two set (worker ${s(median(r.swap.readStackSwitchWorkerMs))}); [A, I] again, set ${r.swap.newDiffWithInterpreterWallMs.length + 1} stacks before: ${s(r.swap.restackDroppedWallMs)}`,
      `target ≤ 10 ms → ${r.swap.readStackSwitchMedianWallMs <= 10 ? 'met' : 'NOT met'}`,
    ],
    [
      'switch read diffs',
      `${s(r.swap.cachedMedianWallMs)} median of ${r.swap.cachedWallMs.length} A ⇄ B switches (worker ${s(median(r.swap.cachedWorkerMs))})`,
      `${r.swap.cachedPctOfSessionCreation.toFixed(2)}% of creation`,
    ],
    [
      'swap takes effect',
      `max |logits A − logits B| = ${r.swap.logitsMaxAbsDiffAvsB.toFixed(4)}, A − [A, I] = ${r.swap.logitsMaxAbsDiffAvsAWithInterpreter.toFixed(4)}; back on A: ${r.swap.logitsMaxAbsDiffBackOnA}, on [X, I]: ${r.swap.logitsMaxAbsDiffBackOnStack}, on [A, I] stacked again: ${r.swap.logitsMaxAbsDiffRestackedAWithInterpreter}`,
      `prefill right after swap ${s(r.swap.prefillAfterSwapMs)}`,
    ],
    [
      'bytes per decoded token',
      `${fmtGB(r.floor.bytesPerToken)} = 4 B × (${(r.floor.linearParams / 1e6).toFixed(1)} M linear + ${(r.floor.lmHeadParams / 1e6).toFixed(1)} M lm_head)`,
      `KV read ≈ ${fmtMiB(r.floor.kvBytesAtMeanContext)}, not counted`,
    ],
  ];
  for (const [name, c, f] of [
    ['1 thread', r.floor.copy1Thread, r.floor.oneThread],
    ['2 threads', r.floor.copy2Threads, r.floor.twoThreads],
  ] as const) {
    if (!c || !f) continue;
    rows.push([
      `floor (${name} copy)`,
      `copy ${(c.readWriteBytesPerS / 1e9).toFixed(1)} GB/s read+write (1 GiB, best of ${c.runsMs.length}: ${s(c.bestMs)}) → ${s(f.floorMs)}/token`,
      `decode = ${f.ratio.toFixed(2)}× floor; target ≤ 1.5× → ${f.ratio <= 1.5 ? 'met' : 'NOT met'}`,
    ]);
  }
  rows.push([
    'CPU use (cores)',
    Object.entries(r.cpu)
      .map(([phase, c]) => `${phase} ${c.selfCores.toFixed(2)} (sys ${c.selfSysCores.toFixed(2)})`)
      .join(', '),
    `other processes: ${Object.entries(r.cpu)
      .map(([phase, c]) => `${phase} ${c.otherCores.toFixed(2)}`)
      .join(
        ', ',
      )}${Object.values(r.cpu).some((c) => c.otherCores > 0.2) ? ' — CONTENDED, timings skewed' : ''}`,
  ]);
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  console.log('');
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
