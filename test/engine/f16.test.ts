import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardTrace } from '../../src/engine/forward';
import { buildModel } from '../../src/engine/graph/build-model';
import { GraphBuilder } from '../../src/engine/graph/onnx-builder';
import { weightBytes, weightFootprint } from '../../src/engine/quant/choose-precision';
import { Engine } from '../../src/engine/runtime/engine';
import { loadCheckpoint } from '../../src/engine/runtime/load-model';
import { createOrtModel } from '../../src/engine/runtime/ort-session';
import { FIXTURE_CASES, fidelityOnCases, relativeError } from './fixture-cases';
import { copyCheckpointAsF32, runCli, tempDir } from './helpers';
import { TINY } from './paths';
import { qwen3Config, writeRandomModel } from './random-model';

const provider = (process.env.DIT_EP as 'cuda' | 'webgpu' | undefined) ?? 'webgpu';

/** Whether `provider` can create a session here: a one-node graph, no weights. */
async function providerAnswers(): Promise<boolean> {
  const g = new GraphBuilder();
  g.input('x', 'float32', [1]);
  g.node('Identity', '/id', ['x'], {}, { outputNames: ['y'] });
  g.output('y', 'float32', [1]);
  try {
    const model = await createOrtModel({
      onnx: () => g.toBytes({ '': 21 }),
      externalDataFolder: TINY,
      provider,
    });
    await model.release();
    return true;
  } catch {
    return false;
  }
}
const onGpu = await providerAnswers();

async function halfGraph(name: string) {
  const { options, tensors } = await loadCheckpoint(join(TINY, name));
  const built = buildModel(options, tensors, 32, { half: true });
  return { options, tensors, built, model: onnx.ModelProto.decode(built.onnx) };
}

describe('the f16 graph', () => {
  it('multiplies each projection in float16 between two Casts, its LoRA branch in float32', async () => {
    const { options, built, model } = await halfGraph('qwen3-tiny');
    const nodes = model.graph?.node ?? [];
    const byName = new Map(nodes.map((n) => [n.name, n]));
    const path = '/model/layers.0/attn/q_proj';
    const gemm = byName.get(`${path}/Gemm`);
    expect(Number(byName.get(`${path}/CastF16`)?.attribute?.[0]?.i)).toBe(onnx.TensorProto.DataType.FLOAT16);
    expect(gemm?.input?.[0]).toBe(`${path}/CastF16/output_0`);
    expect(byName.get(`${path}/CastF32`)?.input).toEqual(gemm?.output);
    expect(byName.get(`${path}/lora/B`)?.input?.[2]).toBe(`${path}/CastF32/output_0`);
    expect(built.nodes.filter((n) => n.op === 'MatMulNBits')).toHaveLength(0);
    // Seven projections per layer and the LM head.
    expect(
      built.nodes.filter((n) => n.name.endsWith('/CastF16') && !n.name.startsWith('/weights')),
    ).toHaveLength(options.numLayers * 7 + 1);
  });

  it('casts bf16 and f32 weights to float16 once (folded by ORT), and takes float16 ones as stored', async () => {
    for (const name of ['qwen3-tiny', 'llama-tiny']) {
      const stored = await halfGraph(name); // bf16, float32
      const weightCast = stored.built.nodes.find(
        (n) => n.name === '/weights/model.layers.0.self_attn.q_proj.weight/CastF16',
      );
      expect(weightCast?.op).toBe('Cast');
    }
    const f16 = await halfGraph('qwen2-tiny');
    expect(f16.built.nodes.some((n) => n.name.startsWith('/weights/') && n.name.endsWith('/CastF16'))).toBe(
      false,
    );
    const gemm = (f16.model.graph?.node ?? []).find((n) => n.name === '/model/layers.0/attn/q_proj/Gemm');
    expect(gemm?.input?.[1]).toBe('model.layers.0.self_attn.q_proj.weight#stored');
  });

  it('counts 2 bytes per weight', async () => {
    const { options, tensors } = await loadCheckpoint(join(TINY, 'llama-tiny'));
    expect(weightBytes(options, tensors, 'f16') * 2).toBe(weightBytes(options, tensors, 'f32'));
    const f16 = weightFootprint(options, tensors, undefined, true);
    const f32 = weightFootprint(options, tensors);
    expect(f16.readPerToken * 2).toBe(f32.readPerToken);
  });
});

describe('the f16 engine on the CPU', () => {
  it('is refused at load with one line, by the engine and by the CLI', async () => {
    const engine = new Engine();
    try {
      await expect(
        engine.open(join(TINY, 'llama-tiny'), { provider: 'cpu', precision: 'f16', maxPositions: 16 }),
      ).rejects.toThrow(
        /^cpu: f16 weights run on a GPU provider \(CUDA or WebGPU\); on the CPU use f32, int8 or int4$/,
      );
    } finally {
      await engine.terminate();
    }
    const r = runCli([
      'forward',
      '--model',
      join(TINY, 'llama-tiny'),
      '--ids',
      '1,2',
      '--precision',
      'f16',
      '--provider',
      'cpu',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('f16 weights run on a GPU provider');
  });
});

describe.runIf(onGpu)(`the f16 engine on ${provider}`, () => {
  let engine: Engine;
  beforeAll(() => {
    engine = new Engine();
  });
  afterAll(() => engine.terminate());

  it('multiplies by the weights as stored: float16 ones give the float32 engine’s logits within activation rounding', async () => {
    // qwen2-tiny is stored in float16, so the float32 engine multiplies by the very same values.
    const dir = join(TINY, 'qwen2-tiny');
    const ids = [52, 92, 50, 138, 294, 253, 180];
    const exact = await engine.open(dir, { provider: 'cpu', precision: 'f32', maxPositions: 32 });
    const half = await engine.open(dir, { provider, precision: 'f16', maxPositions: 32 });
    expect(half.info.precision.precision).toBe('f16');
    expect(half.info.provider.provider).toBe(provider);
    const a = await forwardTrace(exact, ids, 4);
    const b = await forwardTrace(half, ids, 4);
    const worst = Math.max(...ids.map((_, i) => relativeError(b.logits[i], a.logits[i])));
    expect(worst).toBeLessThan(0.01);
    expect(b.tokens).toEqual(a.tokens);
    await exact.close();
    await half.close();
  });

  it.runIf(provider === 'webgpu')(
    'refuses at load where WebGPU would need the composed attention (a head_dim not a multiple of 8)',
    async () => {
      // The shape ORT's WebGPU provider decoded wrongly at f16 (precision.ts); f32 serves it.
      const dir = tempDir();
      const config = qwen3Config({
        vocab: 96,
        hidden: 40,
        intermediate: 80,
        layers: 2,
        heads: 4,
        kvHeads: 2,
        headDim: 12,
      });
      writeRandomModel(dir, config, 11);
      await expect(engine.open(dir, { provider, precision: 'f16', maxPositions: 32 })).rejects.toThrow(
        /^webgpu: f16 weights on WebGPU need GroupQueryAttention, which cannot run this model \(its head_dim is not a multiple of 8\); use f32 or int8$/,
      );
      const exact = await engine.open(dir, { provider, precision: 'f32', maxPositions: 32 });
      expect(exact.info.attention).toBe('composed');
      await exact.close();
    },
  );

  it('names float16 when weights beyond its range make the logits NaN', async () => {
    // finite in float32 only
    const dir = await copyCheckpointAsF32(join(TINY, 'llama-tiny'), tempDir(), (name, data) =>
      name === 'model.layers.0.self_attn.q_proj.weight' ? data.fill(1e6) : data,
    );
    const half = await engine.open(dir, { provider, precision: 'f16', maxPositions: 16 });
    await expect(forwardTrace(half, [1, 2, 3], 1)).rejects.toThrow(/NaN logits.*overflow float16/);
    await half.close();
  });

  // The published tolerance (README.md, "Precision"); measured on WebGPU (Mesa's lavapipe): 0.0061
  // and 48 / 48.
  it('the 48 reference cases within the published tolerance, adapters in float32', async () => {
    const { worst, sameFirst } = await fidelityOnCases(engine, { provider, precision: 'f16' });
    expect(worst).toBeLessThan(0.02);
    expect(sameFirst / FIXTURE_CASES.length).toBeGreaterThanOrEqual(0.95);
  }, 300_000);
});

describe.runIf(onGpu)(`the CLI on ${provider}`, () => {
  it('forward --precision f16 runs in float16 and says so', () => {
    const r = runCli([
      'forward',
      '--model',
      join(TINY, 'llama-tiny'),
      '--ids',
      '1,2,3',
      '--steps',
      '2',
      '--precision',
      'f16',
      '--provider',
      provider,
    ]);
    // Dawn itself prints two warnings on Mesa's software Vulkan (its limits, at adapter creation),
    // which no ORT setting silences; nothing else may reach stderr.
    const dawn =
      /^Warning: max\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;
    expect(r.stderr.split('\n').filter((line) => line && !dawn.test(line))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('precision: f16');
  });
});
