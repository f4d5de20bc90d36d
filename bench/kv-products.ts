// The two matrix products over the KV cache that one decoded token runs in every layer (its
// queries times the past keys, its probabilities times the past values), at Qwen3-0.6B's shape,
// with the cache in three element types side by side, interleaved run by run:
//   f32   as the engine runs them (graph/composed-attention.ts): FusedMatMul over the slot-major
//         cache, read by strides (transBatchB), one row of probabilities per query head;
//   f16   the same ops on a float16 cache;
//   int8  MatMulInteger over an int8 cache (keys head-major and transposed, values head-major) with
//         queries and probabilities as uint8: the fastest an 8-bit cache could go with ORT's CPU
//         kernels, before the ops that would quantize and rescale around them.
// This is what decides whether a smaller cache could bring decode at long contexts nearer decode at
// short ones (README.md, "Where decode's time goes"). Bench only: nothing in src runs an 8-bit cache.
//
//   npm run bench:kv-products       env: DIT_BENCH_CONTEXTS (64,2048), DIT_BENCH_THREADS (2)
import * as ort from 'onnxruntime-node';
import { type ElemType, GraphBuilder } from '../src/engine/graph/onnx-builder';
import { median } from './measure';

const LAYERS = 28;
const KV_HEADS = 8;
const GROUP = 2;
const D = 128;
const CONTEXTS = (process.env.DIT_BENCH_CONTEXTS ?? '64,2048').split(',').map(Number);
const THREADS = Number(process.env.DIT_BENCH_THREADS ?? 2);
const RUNS = 15;
const MS = 'com.microsoft';

const CACHES = ['f32', 'f16', 'int8'] as const;
type Cache = (typeof CACHES)[number];

interface Spec {
  readonly name: string;
  readonly type: 'float32' | 'float16' | 'int8' | 'uint8';
  readonly dims: readonly number[];
}

/** One layer's inputs (queries, keys, values, probabilities) and the element type of its two products. */
function layerSpecs(cache: Cache, slots: number): { inputs: Spec[]; outputType: ElemType } {
  if (cache === 'int8')
    return {
      inputs: [
        { name: 'q', type: 'uint8', dims: [KV_HEADS, GROUP, D] },
        { name: 'k', type: 'int8', dims: [KV_HEADS, D, slots] },
        { name: 'v', type: 'int8', dims: [KV_HEADS, 1, slots, D] },
        { name: 'p', type: 'uint8', dims: [KV_HEADS, GROUP, 1, slots] },
      ],
      outputType: 'int32',
    };
  const type = cache === 'f32' ? 'float32' : 'float16';
  return {
    inputs: [
      { name: 'q', type, dims: [KV_HEADS, 1, GROUP, D] },
      { name: 'k', type, dims: [slots, KV_HEADS, 1, D] },
      { name: 'v', type, dims: [slots, KV_HEADS, 1, D] },
      { name: 'p', type, dims: [KV_HEADS, GROUP, 1, slots] },
    ],
    outputType: type,
  };
}

function graph(cache: Cache, slots: number): Uint8Array {
  const g = new GraphBuilder();
  const { inputs, outputType } = layerSpecs(cache, slots);
  const scoresDims = cache === 'int8' ? [KV_HEADS, GROUP, slots] : [KV_HEADS, 1, GROUP, slots];
  for (let l = 0; l < LAYERS; l++) {
    const [q, k, v, p] = inputs.map((s) => g.input(`${s.name}${l}`, s.type, s.dims));
    const scores =
      cache === 'int8'
        ? g.op('MatMulInteger', `/${l}/scores`, [q, k])
        : g.op('FusedMatMul', `/${l}/scores`, [q, k], { transB: 1, transBatchB: 1 }, MS);
    const mixed =
      cache === 'int8'
        ? g.op('MatMulInteger', `/${l}/values`, [p, v])
        : g.op('FusedMatMul', `/${l}/values`, [p, v], { transBatchB: 1 }, MS);
    for (const [name, x] of [
      [`scores${l}`, scores],
      [`values${l}`, mixed],
    ]) {
      g.node('Identity', `/${l}/${name}`, [x], {}, { outputNames: [name] });
      g.output(name, outputType, name.startsWith('scores') ? scoresDims : [KV_HEADS, GROUP, 1, D]);
    }
  }
  return g.toBytes({ '': 17, [MS]: 1 });
}

function tensor({ type, dims }: Spec): ort.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data =
    type === 'float32'
      ? Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.1)
      : type === 'float16'
        ? new Uint16Array(n).fill(0x2e66) // 0.1
        : type === 'int8'
          ? Int8Array.from({ length: n }, (_, i) => (i % 255) - 127)
          : Uint8Array.from({ length: n }, (_, i) => i % 256);
  return new ort.Tensor(type, data, dims);
}

async function main(): Promise<void> {
  console.log(
    `the products over the past of one decoded token, ${LAYERS} layers, ${KV_HEADS} KV heads × ${GROUP} queries, head_dim ${D}, ${THREADS} threads`,
  );
  for (const slots of CONTEXTS) {
    const sessions: { cache: Cache; session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }[] = [];
    for (const cache of CACHES) {
      const session = await ort.InferenceSession.create(graph(cache, slots), {
        intraOpNumThreads: THREADS,
        logSeverityLevel: 4,
        enableMemPattern: false,
        extra: { session: { 'intra_op.allow_spinning': '0' } },
      });
      const feeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < LAYERS; l++)
        for (const spec of layerSpecs(cache, slots).inputs) feeds[`${spec.name}${l}`] = tensor(spec);
      sessions.push({ cache, session, feeds });
    }
    const times = new Map<Cache, number[]>(CACHES.map((c) => [c, []]));
    for (let r = 0; r < RUNS + 2; r++)
      for (const { cache, session, feeds } of sessions) {
        const t = performance.now();
        await session.run(feeds);
        if (r >= 2) times.get(cache)?.push(performance.now() - t);
      }
    const f32 = median(times.get('f32') ?? []);
    const cacheBytes = (cache: Cache) =>
      LAYERS * 2 * slots * KV_HEADS * D * { f32: 4, f16: 2, int8: 1 }[cache];
    for (const cache of CACHES) {
      const ms = median(times.get(cache) ?? []);
      console.log(
        `  ${String(slots).padStart(5)} positions  ${cache.padEnd(4)}  ${ms.toFixed(1).padStart(6)} ms  ${(f32 / ms).toFixed(2)}× f32's speed  (cache ${(cacheBytes(cache) / 1e6).toFixed(0)} MB)`,
      );
    }
    for (const { session } of sessions) await session.release();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
