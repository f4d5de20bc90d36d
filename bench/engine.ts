// Engine benchmark at the paper's scale: random bf16 checkpoints of released models' shapes
// (Qwen3-0.6B, Qwen3-8B, Gemma-3-4B; written once under the cache and reused), each at every weight
// precision that fits in memory, a rank-1 diff under a rank-16 interpreter, through the real engine
// (worker thread, ORT session, KV cache, LoRA slots). Each precision runs in a child process of its
// own, so its peak RSS is its own; PyTorch eager (bench/torch_qwen3.py, Qwen3 shapes) runs between
// them, on the same checkpoint, adapters and prompt. Reported, never asserted: session creation,
// peak RSS over (weights + KV cache) at a short and a long context, prefill, decode, decode at the
// long context over decode at the short one, swaps, and decode over the read-bandwidth floor of the
// bytes a token reads (the weights once, the LoRA stack's factors, the KV cache at that context),
// beside the linear projections alone on the same weights (projections-alone.ts: what the kernels
// themselves reach of their own floor).
//
//   npm run bench:engine
//   env: DIT_BENCH_SHAPES (qwen3-0.6b; also qwen3-8b, gemma3-4b, or all), DIT_BENCH_PRECISIONS
//        (f32,int8,int4; those that do not fit are skipped), DIT_BENCH_PROMPT (64), DIT_BENCH_STEPS
//        (32), DIT_BENCH_LONG (2048; 0: no long context), DIT_BENCH_THREADS (2), DIT_BENCH_SEED,
//        DIT_BENCH_CACHE (bench/.cache), DIT_BENCH_JSON, DIT_BENCH_TORCH=0 (no PyTorch runs),
//        DIT_BENCH_ATTENTION (gqa, composed, or both: gqa,composed, each precision with each kernel
//        side by side; default the provider's own), DIT_BENCH_SCORE_BYTES (a run's scores bound),
//        DIT_BENCH_PROVIDER (cpu; webgpu or cuda on a GPU: f16 joins the precisions, PyTorch is
//        off, and the columns measured against this host's memory, peak RSS and the read floor,
//        are left out, since the weights then live in the GPU's)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadAdapter } from '../src/engine/checkpoint/load-adapter';
import { availableMemory, kvCacheBytes, weightBytes } from '../src/engine/quant/choose-precision';
import { PRECISIONS, type Precision, precisionUnsupportedOn } from '../src/engine/quant/precision';
import { Engine, type ModelHandle } from '../src/engine/runtime/engine';
import { loadCheckpoint } from '../src/engine/runtime/load-model';
import { PROVIDER_NAMES, type ProviderName } from '../src/engine/runtime/providers';
import {
  BENCH_SHAPES,
  type BenchShape,
  type CheckpointInfo,
  ensureBenchCheckpoint,
  mulberry32,
} from './make-checkpoint';
import { fmtGB, median } from './measure';
import { projectionsAloneMs } from './projections-alone';
import { type ReadBandwidth, readBandwidth } from './read-bandwidth';
import { runTorchQwen3, type TorchDtype, type TorchRunResult, torchAvailable } from './torch-companion';

const env = process.env;
const PROMPT = Number(env.DIT_BENCH_PROMPT ?? 64);
const STEPS = Number(env.DIT_BENCH_STEPS ?? 32);
const LONG = Number(env.DIT_BENCH_LONG ?? 2048);
const LONG_STEPS = 16;
const THREADS = Number(env.DIT_BENCH_THREADS ?? 2);
const SEED = Number(env.DIT_BENCH_SEED ?? 1234);
const CACHE = resolve(env.DIT_BENCH_CACHE ?? resolve(__dirname, '..', 'bench', '.cache'));
const JSON_OUT = resolve(env.DIT_BENCH_JSON ?? resolve(CACHE, 'engine-bench.json'));
/** Internal engine options, to compare attention kernels and run sizes (attention-kernel.ts, model-host.ts). */
const ATTENTIONS = (env.DIT_BENCH_ATTENTION ?? '').split(',').filter(Boolean) as ('gqa' | 'composed')[];
const SCORE_BYTES = env.DIT_BENCH_SCORE_BYTES ? Number(env.DIT_BENCH_SCORE_BYTES) : undefined;
const PROVIDER = (env.DIT_BENCH_PROVIDER ?? 'cpu') as ProviderName;
if (!PROVIDER_NAMES.includes(PROVIDER))
  throw new Error(`DIT_BENCH_PROVIDER=${PROVIDER}: one of ${PROVIDER_NAMES.join(', ')}`);
const ON_HOST = PROVIDER === 'cpu';
/** New diffs set under the interpreter, and switches between the last two stacks. */
const NEW_DIFFS = 5;
const SWITCHES = 5;
/** Peak memory over (weights + KV) a run may need: the engine's target, used to skip what cannot fit. */
const HEADROOM = 1.3;

interface ChildInput {
  readonly shape: BenchShape;
  readonly precision: Precision;
  readonly checkpoint: CheckpointInfo;
  readonly attention?: 'gqa' | 'composed';
}

interface Decode {
  prefillMs: number;
  stepMs: number[];
  tokens: number[];
}

interface EngineRun {
  shape: string;
  precision: Precision;
  /** The provider that ran, and why (the engine's own reasons). */
  provider: { name: ProviderName; reasons: readonly string[] };
  reason: string;
  openMs: number;
  quantizeMs: number;
  sessionMs: number;
  weights: { bytes: number; readPerToken: number };
  /** Bytes of the stack's LoRA factors (float32), which every token reads too. */
  loraBytes: number;
  kvBytesPerPosition: number;
  short: { context: number; prefillMs: number; decodeMs: number; peakRss: number; kvBytes: number };
  long: { context: number; prefillMs: number; decodeMs: number; peakRss: number; kvBytes: number } | null;
  swap: { newDiffWithInterpreterMs: number[]; switchMs: number[] };
  tokens: number[];
  /** The linear projections and LM head alone, one token, on the same weights (projections-alone.ts). */
  projectionsMs: number;
}

function argmax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function promptOf(length: number, vocab: number, seed: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length }, () => rand() % vocab);
}

function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function decode(model: ModelHandle, prompt: readonly number[], steps: number): Promise<Decode> {
  const seq = await model.sequence(prompt.length + steps);
  try {
    const t0 = performance.now();
    let logits = await seq.append(prompt);
    const prefillMs = performance.now() - t0;
    const stepMs: number[] = [];
    const tokens: number[] = [];
    for (let s = 0; s < steps; s++) {
      const next = argmax(logits);
      tokens.push(next);
      const t = performance.now();
      logits = await seq.append([next]);
      stepMs.push(performance.now() - t);
    }
    return { prefillMs, stepMs, tokens };
  } finally {
    await seq.dispose();
  }
}

/** One shape at one precision, in this (child) process. */
async function measure({ shape, precision, checkpoint, attention }: ChildInput): Promise<EngineRun> {
  const engine = new Engine();
  try {
    const t0 = performance.now();
    const model = await engine.open(checkpoint.dir, {
      provider: PROVIDER,
      precision,
      threads: THREADS,
      maxPositions: Math.max(PROMPT + STEPS, LONG + LONG_STEPS),
      quantizedCache: join(CACHE, 'quantized'),
      ...(attention ? { attention } : {}),
      ...(SCORE_BYTES ? { maxScoreBytes: SCORE_BYTES } : {}),
    });
    const openMs = performance.now() - t0;
    const interpreter = { path: checkpoint.interpreter };
    const stack = [{ path: checkpoint.adapters[0] }, interpreter];
    await model.setAdapters(stack);
    const prompt = promptOf(PROMPT, shape.vocabSize, SEED + 100);
    await decode(model, prompt, 2); // warm-up: the first run allocates the arena
    const short = await decode(model, prompt, STEPS);
    const shortPeak = peakRss();

    const newDiffWithInterpreterMs: number[] = [];
    for (const dir of checkpoint.adapters.slice(1, 1 + NEW_DIFFS)) {
      const t = performance.now();
      await model.setAdapters([{ path: dir }, interpreter]);
      newDiffWithInterpreterMs.push(performance.now() - t);
    }
    const [x, y] = checkpoint.adapters.slice(NEW_DIFFS - 1, NEW_DIFFS + 1);
    const switchMs: number[] = [];
    for (let i = 0; i < SWITCHES; i++) {
      const t = performance.now();
      await model.setAdapters([{ path: i % 2 === 0 ? x : y }, interpreter]);
      switchMs.push(performance.now() - t);
    }

    let long: EngineRun['long'] = null;
    if (LONG > 0) {
      const run = await decode(model, promptOf(LONG, shape.vocabSize, SEED + 200), LONG_STEPS);
      long = {
        context: LONG,
        prefillMs: run.prefillMs,
        decodeMs: median(run.stepMs),
        peakRss: peakRss(),
        kvBytes: kvCacheBytes(model.info.options, LONG + LONG_STEPS),
      };
    }
    const info = model.info;
    await model.close();
    // The worker's memory given back first (the finally's terminate is then a no-op).
    await engine.terminate();
    // Read here, after the peaks: copies held by this thread are no part of the engine's memory.
    const loraBytes = (await Promise.all(stack.map((ref) => loadAdapter(ref)))).reduce(
      (sum, a) => sum + a.factors.reduce((n, f) => n + (f.inFeatures + f.outFeatures) * f.rank * 4, 0),
      0,
    );
    const { options, tensors } = await loadCheckpoint(checkpoint.dir);
    const projectionsMs = await projectionsAloneMs(
      options,
      tensors,
      precision,
      join(CACHE, 'quantized'),
      THREADS,
      PROVIDER,
    );
    return {
      shape: shape.name,
      precision,
      provider: { name: info.provider.provider, reasons: info.provider.reasons },
      reason: info.precision.reason,
      openMs,
      quantizeMs: info.timings.quantizeMs,
      sessionMs: info.timings.sessionMs,
      weights: info.weights,
      loraBytes,
      kvBytesPerPosition: kvCacheBytes(info.options, 1),
      short: {
        context: PROMPT,
        prefillMs: short.prefillMs,
        decodeMs: median(short.stepMs),
        peakRss: shortPeak,
        kvBytes: kvCacheBytes(info.options, PROMPT + STEPS),
      },
      long,
      swap: { newDiffWithInterpreterMs, switchMs },
      tokens: short.tokens,
      projectionsMs,
    };
  } finally {
    await engine.terminate();
  }
}

/** Runs `measure` in a child process (this script with --child) and returns its result or why it failed. */
function inChild(input: ChildInput): Promise<EngineRun | { failed: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [__filename, '--child', JSON.stringify(input)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    child.on('close', (code, signal) => {
      try {
        done(code === 0 ? (JSON.parse(out) as EngineRun) : { failed: `exit ${code ?? signal}` });
      } catch {
        done({ failed: `no result (${out.slice(0, 200)})` });
      }
    });
  });
}

interface ShapeResult {
  shape: BenchShape;
  checkpoint: { dir: string; bf16Bytes: number; generatedMs: number };
  engine: Record<string, EngineRun | { failed: string } | { skipped: string }>;
  torch: { dtype: TorchDtype; result: TorchRunResult | { failed: string } }[];
}

async function benchShape(shape: BenchShape): Promise<ShapeResult> {
  console.log(`\n${shape.name}: checkpoint under ${CACHE} …`);
  const checkpoint = ensureBenchCheckpoint(CACHE, shape, SEED, 2 * NEW_DIFFS);
  console.log(
    `  ${fmtGB(checkpoint.tensorBytes)} bf16 ${checkpoint.reused ? 'reused' : `written in ${(checkpoint.generateMs / 1000).toFixed(0)} s`}`,
  );
  const { options, tensors } = await loadCheckpoint(checkpoint.dir);
  // f16 is for GPU providers (quant/precision.ts); every bench shape's head_dim suits GroupQueryAttention.
  const runnable = PRECISIONS.filter((p) => !precisionUnsupportedOn(p, PROVIDER));
  const wanted = (env.DIT_BENCH_PRECISIONS ?? runnable.join(',')).split(',') as Precision[];
  const kv = kvCacheBytes(options, Math.max(PROMPT + STEPS, LONG + LONG_STEPS));
  const params = weightBytes(options, tensors, 'f32') / 4;
  const torchDtypes: TorchDtype[] =
    shape.family === 'qwen3' && ON_HOST && env.DIT_BENCH_TORCH !== '0' && torchAvailable()
      ? (['bf16', 'f32'] as const).filter(
          (d) => HEADROOM * params * (d === 'bf16' ? 2 : 4) < availableMemory(),
        )
      : [];
  const prompt = promptOf(PROMPT, shape.vocabSize, SEED + 100);
  const result: ShapeResult = {
    shape,
    checkpoint: {
      dir: checkpoint.dir,
      bf16Bytes: checkpoint.tensorBytes,
      generatedMs: checkpoint.generateMs,
    },
    engine: {},
    torch: [],
  };
  // Engine and PyTorch alternate, so that a change in the machine's state shows in both.
  let torchTurn = 0;
  for (const precision of wanted) {
    const need = HEADROOM * (weightBytes(options, tensors, precision) + kv);
    if (need > availableMemory()) {
      result.engine[precision] = {
        skipped: `needs about ${fmtGB(need)}, ${fmtGB(availableMemory())} available`,
      };
      console.log(`  ${precision}: skipped (${(result.engine[precision] as { skipped: string }).skipped})`);
      continue;
    }
    for (const attention of ATTENTIONS.length > 0 ? ATTENTIONS : [undefined]) {
      const label = ATTENTIONS.length > 1 ? `${precision} ${attention}` : precision;
      console.log(`  engine ${label} …`);
      result.engine[label] = await inChild({ shape, precision, checkpoint, attention });
    }
    if (torchDtypes.length > 0) {
      const dtype = torchDtypes[torchTurn++ % torchDtypes.length];
      console.log(`  pytorch ${dtype} …`);
      const run = await runTorchQwen3({
        model: checkpoint.dir,
        adapters: [checkpoint.adapters[0], checkpoint.interpreter],
        dtype,
        threads: THREADS,
        ids: prompt,
        steps: STEPS,
      }).catch((e: Error) => ({ failed: e.message.split('\n')[0] }));
      result.torch.push({ dtype, result: run });
    }
  }
  return result;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    process.stdout.write(JSON.stringify(await measure(JSON.parse(process.argv[3]) as ChildInput)));
    return;
  }
  mkdirSync(CACHE, { recursive: true });
  const names = (env.DIT_BENCH_SHAPES ?? 'qwen3-0.6b').split(',');
  const shapes = names.includes('all') ? BENCH_SHAPES : BENCH_SHAPES.filter((s) => names.includes(s.name));
  if (shapes.length === 0)
    throw new Error(`no shape named ${names} (known: ${BENCH_SHAPES.map((s) => s.name)})`);
  const results: ShapeResult[] = [];
  for (const shape of shapes) results.push(await benchShape(shape));
  console.log('\nread bandwidth (ReduceMax over 1 GiB, row by row) …');
  const read = [await readBandwidth(1), await readBandwidth(THREADS)];
  const out = {
    when: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    settings: { prompt: PROMPT, steps: STEPS, long: LONG, threads: THREADS, seed: SEED },
    read,
    results,
  };
  mkdirSync(dirname(JSON_OUT), { recursive: true });
  writeFileSync(JSON_OUT, `${JSON.stringify(out, null, 2)}\n`);
  for (const r of results) printShape(r, read[read.length - 1]);
  console.log(
    `\nread bandwidth: ${read.map((b) => `${b.threads} thread(s) ${(b.bytesPerS / 1e9).toFixed(1)} GB/s`).join(', ')}`,
  );
  console.log(`JSON: ${JSON_OUT}`);
}

function printShape(r: ShapeResult, read: ReadBandwidth): void {
  const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
  const torchBf16 = r.torch.filter((t) => t.dtype === 'bf16' && !('failed' in t.result));
  const torchMs = (dtype: TorchDtype) => {
    const runs = r.torch.filter((t) => t.dtype === dtype && !('failed' in t.result));
    return runs.length
      ? median(runs.map((t) => (t.result as TorchRunResult).medianDecodeMs ?? Number.NaN))
      : null;
  };
  const bf16Ms = torchBf16.length ? torchMs('bf16') : null;
  const rows: string[][] = [
    [
      '',
      'open (quantize)',
      `peak RSS / (weights+KV) @${PROMPT} · @${LONG}`,
      'prefill',
      'decode',
      `decode @${LONG} / @${PROMPT}`,
      'decode / floor',
      'projections alone / their floor',
      'vs torch bf16',
      'new diff + interp',
      'switch',
    ],
  ];
  for (const [precision, run] of Object.entries(r.engine)) {
    if ('skipped' in run || 'failed' in run) {
      rows.push([precision, 'skipped' in run ? `skipped: ${run.skipped}` : `failed: ${run.failed}`]);
      continue;
    }
    const expected = (kv: number) => run.weights.bytes + kv;
    // What a decoded token reads: the weights once, the stack's LoRA factors, and the KV cache at
    // the middle of the decoded steps. The projections alone read the weights only.
    const floorMs = (context: number, steps: number) =>
      ((run.weights.readPerToken + run.loraBytes + run.kvBytesPerPosition * (context + steps / 2)) /
        read.bytesPerS) *
      1000;
    const weightsFloorMs = (run.weights.readPerToken / read.bytesPerS) * 1000;
    const shortFloor = floorMs(PROMPT, STEPS);
    const newDiff = median(run.swap.newDiffWithInterpreterMs);
    rows.push([
      precision,
      `${ms(run.openMs)} (${ms(run.quantizeMs)})`,
      ON_HOST
        ? `${(run.short.peakRss / expected(run.short.kvBytes)).toFixed(2)}× · ${run.long ? `${(run.long.peakRss / expected(run.long.kvBytes)).toFixed(2)}×` : '-'}`
        : '-',
      `${((PROMPT / run.short.prefillMs) * 1000).toFixed(0)} tok/s`,
      `${ms(run.short.decodeMs)} (${(1000 / run.short.decodeMs).toFixed(1)} tok/s)`,
      run.long
        ? `${(run.long.decodeMs / run.short.decodeMs).toFixed(2)}×${ON_HOST ? ` (${(run.long.decodeMs / floorMs(LONG, LONG_STEPS)).toFixed(2)}× its floor)` : ''}`
        : '-',
      ON_HOST ? `${(run.short.decodeMs / shortFloor).toFixed(2)}× (${ms(shortFloor)})` : '-',
      ON_HOST
        ? `${(run.projectionsMs / weightsFloorMs).toFixed(2)}× (${ms(run.projectionsMs)})`
        : ms(run.projectionsMs),
      bf16Ms ? `${(bf16Ms / run.short.decodeMs).toFixed(2)}× faster` : '-',
      `${ms(newDiff)} (${((100 * newDiff) / run.openMs).toFixed(1)}% of open)`,
      `${median(run.swap.switchMs).toFixed(1)} ms`,
    ]);
  }
  for (const dtype of ['bf16', 'f32'] as const) {
    const m = torchMs(dtype);
    const runs = r.torch.filter((t) => t.dtype === dtype);
    if (runs.length === 0) continue;
    const first = runs.find((t) => !('failed' in t.result))?.result as TorchRunResult | undefined;
    rows.push([
      `torch ${dtype}`,
      first
        ? `${first.loadSeconds.toFixed(1)} s load`
        : `failed: ${(runs[0].result as { failed: string }).failed}`,
      first ? `${(first.peakRssBytes / first.weightBytes).toFixed(2)}× weights` : '',
      first ? `${first.prefillTokensPerSecond.toFixed(0)} tok/s` : '',
      m ? `${ms(m)} (${(1000 / m).toFixed(1)} tok/s)` : '',
    ]);
  }
  console.log(
    `\n${r.shape.name} (${fmtGB(r.checkpoint.bf16Bytes)} bf16, rank-1 diff + rank-16 interpreter, ${PROVIDER}${ON_HOST ? `, ${THREADS} threads` : ''})`,
  );
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows) console.log(row.map((cell, c) => (cell ?? '').padEnd(widths[c])).join('  '));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
