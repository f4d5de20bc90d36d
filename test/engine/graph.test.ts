// The built graph's structure, read back from its ONNX bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { openCheckpointTensors } from '../../src/engine/checkpoint/checkpoint-files';
import { normalizeConfig } from '../../src/engine/config/normalize-config';
import { attentionKernel, gqaRefusal } from '../../src/engine/graph/attention-kernel';
import { type BuildOptions, buildModel } from '../../src/engine/graph/build-model';
import { TINY } from './paths';

/** The graph of a fixture, its config.json changed by `edit` first. */
async function build(
  name: string,
  edit: (config: Record<string, unknown>) => object = (c) => c,
  buildOptions: BuildOptions = {},
) {
  const dir = join(TINY, name);
  const tensors = await openCheckpointTensors(dir);
  const config = edit(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  const options = normalizeConfig(config, (n) => Boolean(tensors.get(n)));
  const built = buildModel(options, tensors, 32, buildOptions);
  return { options, built, model: onnx.ModelProto.decode(built.onnx) };
}

describe('graph structure', () => {
  it('gives every linear module of every layer a LoRA slot with a symbolic rank', async () => {
    const { options, model } = await build('qwen3-tiny');
    const inputs = model.graph?.input ?? [];
    const lora = inputs.filter((i) => i.name?.startsWith('lora.'));
    expect(lora).toHaveLength(options.numLayers * 7 * 2);
    const a = inputs.find((i) => i.name === 'lora.1.down_proj.A');
    const dims = a?.type?.tensorType?.shape?.dim ?? [];
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['r.1.down_proj', 128]);
  });

  it("adds each LoRA branch to its base projection as the B product's C term, with no Add of its own", async () => {
    const { options, model } = await build('qwen3-tiny');
    const nodes = model.graph?.node ?? [];
    const bProducts = nodes.filter((n) => n.name?.endsWith('/lora/B'));
    expect(bProducts).toHaveLength(options.numLayers * 7);
    const q = nodes.find((n) => n.name === '/model/layers.0/attn/q_proj/lora/B');
    const base = nodes.find((n) => n.name === '/model/layers.0/attn/q_proj/Gemm');
    expect(q?.opType).toBe('Gemm');
    expect(q?.input).toEqual([
      '/model/layers.0/attn/q_proj/lora/A/output_0',
      'lora.0.q_proj.B',
      base?.output?.[0],
    ]);
    expect(nodes.some((n) => n.name?.includes('/lora/Add'))).toBe(false);
  });

  it('keeps every checkpoint weight as external data pointing into the safetensors files', async () => {
    const { model, built } = await build('qwen3-tiny');
    const external = (model.graph?.initializer ?? []).filter(
      (t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL,
    );
    expect(external.length).toBe(24);
    const locations = new Set(external.map((t) => t.externalData?.find((e) => e.key === 'location')?.value));
    expect([...locations].sort()).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    expect([...built.externalFiles.keys()].sort()).toEqual([...locations].sort());
    const inline = (model.graph?.initializer ?? []).filter(
      (t) => t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL,
    );
    expect(inline.every((t) => t.name?.startsWith('/rope/') || t.name?.startsWith('/const/'))).toBe(true);
  });

  it('takes the tokens as embedding rows: the table is in the graph only as a tied LM head', async () => {
    const untied = await build('llama-tiny');
    const input = untied.model.graph?.input?.find((i) => i.name === 'inputs_embeds');
    const dims = input?.type?.tensorType?.shape?.dim ?? [];
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual([
      'batch',
      'seq',
      untied.options.hiddenSize,
    ]);
    expect(untied.model.graph?.input?.some((i) => i.name === 'input_ids')).toBe(false);
    const names = (m: typeof untied.model) => (m.graph?.initializer ?? []).map((t) => t.name ?? '');
    expect(names(untied.model).some((n) => n.startsWith('model.embed_tokens'))).toBe(false);
    expect(
      untied.built.nodes.some((n) => n.op === 'Gather' && n.name.startsWith('/model/embed_tokens')),
    ).toBe(false);

    const tied = await build('qwen3-tiny');
    const table = names(tied.model).filter((n) => n.startsWith('model.embed_tokens'));
    expect(table).toHaveLength(1);
    const readers = (tied.model.graph?.node ?? []).filter((n) => n.input?.includes(table[0]));
    expect(readers.every((n) => n.name?.startsWith('/weights/') || n.name?.startsWith('/lm_head'))).toBe(
      true,
    );
  });

  it('names nodes as paths and uses one attention op per layer (GroupQueryAttention, forced)', async () => {
    const { options, built } = await build('gemma3-tiny', undefined, { attention: 'gqa' });
    const gqa = built.nodes.filter((n) => n.op === 'GroupQueryAttention');
    expect(gqa.map((n) => n.name)).toEqual(
      Array.from({ length: options.numLayers }, (_, i) => `/model/layers.${i}/attn/GroupQueryAttention`),
    );
    expect(built.nodes.some((n) => n.name === '/model/layers.0/attn/q_proj/lora/B')).toBe(true);
  });

  it('gives Gemma3 sliding layers a window and their own RoPE tables', async () => {
    const { model } = await build('gemma3-tiny', undefined, { attention: 'gqa' });
    const nodes = model.graph?.node ?? [];
    expect(windows(model)).toEqual([4, -1, 4]);
    const rope = (layer: number) =>
      nodes.find((n) => n.name === `/model/layers.${layer}/attn/q_rope/RotaryEmbedding`)?.input?.[2];
    expect(rope(0)).toBe('/rope/sliding/cos');
    expect(rope(1)).toBe('/rope/full/cos');
  });

  it('gives every Mistral layer the sliding_window, and none when it is null', async () => {
    const mistral = (window: number | null) =>
      build('llama-tiny', (c) => ({ ...c, model_type: 'mistral', sliding_window: window }), {
        attention: 'gqa',
      });
    expect(windows((await mistral(4)).model)).toEqual([4, 4]);
    expect(windows((await mistral(null)).model)).toEqual([-1, -1]);
  });
});

describe('attention kernels', () => {
  /** name → dims of the graph's inputs or outputs. */
  const signature = (values: onnx.IValueInfoProto[] | null | undefined) =>
    Object.fromEntries(
      (values ?? []).map((v) => [
        v.name,
        (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue)),
      ]),
    );

  it('builds the composed attention for every fixture on the CPU, GroupQueryAttention for GPUs', async () => {
    for (const name of ['qwen3-tiny', 'llama-tiny', 'qwen2-tiny', 'gemma3-tiny']) {
      const { options, built } = await build(name);
      expect(built.attention).toBe('composed');
      expect(attentionKernel(options, 'auto', 'cuda')).toBe('gqa');
      expect(attentionKernel(options, 'auto', 'webgpu')).toBe('gqa');
      expect(built.nodes.some((n) => n.op === 'ScatterND')).toBe(false);
    }
  });

  it('composes attention that reads the past where it lies, behind the same outputs', async () => {
    const gqa = await build('gemma3-tiny', undefined, { attention: 'gqa' });
    const composed = await build('gemma3-tiny');
    expect(composed.built.attention).toBe('composed');
    expect(composed.built.nodes.filter((n) => n.domain === 'com.microsoft').map((n) => n.op)).not.toContain(
      'GroupQueryAttention',
    );
    expect(signature(composed.model.graph?.output)).toEqual(signature(gqa.model.graph?.output));
    // The same inputs, but the past: slot-major in the composed graph, head-major for GroupQueryAttention.
    const inputs = signature(composed.model.graph?.input);
    const gqaInputs = signature(gqa.model.graph?.input);
    const past = (name: string) => name.startsWith('past_');
    expect(Object.keys(inputs).sort()).toEqual(Object.keys(gqaInputs).sort());
    for (const name of Object.keys(inputs).filter((n) => !past(n)))
      expect(inputs[name]).toEqual(gqaInputs[name]);
    const { numKvHeads, headDim } = composed.options;
    expect(inputs['past_key.0']).toEqual(['past_slots', 'batch_kv_heads', 1, headDim]);
    expect(gqaInputs['past_key.0']).toEqual(['batch', numKvHeads, 'kv_capacity', headDim]);
    // Every past input goes straight into matrix products that read it by strides (and one Shape
    // reads how many slots there are): nothing slices, concatenates or transposes (copies) the cache.
    const nodes = composed.model.graph?.node ?? [];
    for (const name of Object.keys(inputs).filter(past)) {
      const readers = nodes.filter((n) => n.input?.includes(name) && n.name !== '/model/past_slots/Shape');
      expect(readers).toHaveLength(1);
      expect(readers[0].opType).toBe('FusedMatMul');
      expect(Number(readers[0].attribute?.find((a) => a.name === 'transBatchB')?.i)).toBe(1);
    }
    const readersOf0 = nodes.filter(
      (n) => n.input?.includes('past_key.0') || n.input?.includes('past_value.0'),
    );
    expect(readersOf0.map((n) => n.name).sort()).toEqual([
      '/model/layers.0/attn/context/past/FusedMatMul',
      '/model/layers.0/attn/past_scores/FusedMatMul',
      '/model/past_slots/Shape',
    ]);
    const outputs = (composed.model.graph?.output ?? []).map((o) => o.name);
    expect(new Set(outputs)).toEqual(
      new Set(['logits', ...[0, 1, 2].flatMap((l) => [`new_key.${l}`, `new_value.${l}`])]),
    );
    expect(outputs.some((name) => name?.startsWith('present'))).toBe(false);
    // Masks shared by the layers: the past's filled slots and the new tokens' causal one for every
    // layer, each with a window of 4 for the sliding ones.
    const masks = composed.built.nodes.filter((n) => n.name.startsWith('/model/attention_mask/'));
    expect(
      masks
        .filter((n) => n.op === 'And')
        .map((n) => n.name)
        .sort(),
    ).toEqual(['/model/attention_mask/new_window_4/And', '/model/attention_mask/past_window_4/And']);
  });

  it('says which head sizes GroupQueryAttention refuses, and refuses to force it on them', async () => {
    expect([8, 16, 24, 128, 256].map((headDim) => gqaRefusal({ headDim }))).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(gqaRefusal({ headDim: 12 })).toBe('its head_dim 12 is not a multiple of 8');
    const tensors = await openCheckpointTensors(join(TINY, 'qwen3-tiny'));
    const config = JSON.parse(readFileSync(join(TINY, 'qwen3-tiny/config.json'), 'utf8'));
    const options = { ...normalizeConfig(config, (n) => Boolean(tensors.get(n))), headDim: 20 };
    expect(attentionKernel(options, 'auto', 'cuda')).toBe('composed');
    expect(attentionKernel({ ...options, headDim: 16 }, 'auto', 'cuda')).toBe('gqa');
    // Refused before anything is built (these weights do not even fit head_dim 20).
    expect(() => buildModel(options, tensors, 8, { attention: 'gqa' })).toThrow(
      /GroupQueryAttention cannot run this model: its head_dim 20 is not a multiple of 8/,
    );
  });
});

/** local_window_size of each layer's attention, in layer order (-1: none). */
function windows(model: onnx.ModelProto): number[] {
  return (model.graph?.node ?? [])
    .filter((n) => n.opType === 'GroupQueryAttention')
    .map((n) => Number(n.attribute?.find((a) => a.name === 'local_window_size')?.i));
}

describe('config normalisation', () => {
  const hasAll = () => true;
  const llama = JSON.parse(readFileSync(join(TINY, 'llama-tiny/config.json'), 'utf8'));

  it('reads head_dim when it differs from hidden / heads', () => {
    // llama-tiny: 48 hidden over 6 heads, 8 each.
    const wide = normalizeConfig({ ...llama, head_dim: 16 }, hasAll);
    expect(wide.headDim).toBe(16);
    expect(wide.attentionScale).toBeCloseTo(0.25);
    const qwen3 = JSON.parse(readFileSync(join(TINY, 'qwen3-tiny/config.json'), 'utf8'));
    expect(normalizeConfig({ ...qwen3, head_dim: 32 }, hasAll).headDim).toBe(32);
  });

  it("defaults a missing head_dim as the family's transformers config does", () => {
    const { head_dim: _drop, ...qwen3 } = JSON.parse(
      readFileSync(join(TINY, 'qwen3-tiny/config.json'), 'utf8'),
    );
    expect(normalizeConfig(qwen3, hasAll).headDim).toBe(128);
    expect(normalizeConfig(llama, hasAll).headDim).toBe(8);
    expect(normalizeConfig({ ...llama, model_type: 'mistral' }, hasAll).headDim).toBe(8);
  });

  it('reads rope_scaling of types linear and llama3, and refuses others by name', () => {
    expect(normalizeConfig(llama, hasAll).rope.scaling.type).toBe('llama3');
    const linear = normalizeConfig({ ...llama, rope_scaling: { type: 'linear', factor: 8 } }, hasAll);
    expect(linear.rope.scaling).toEqual({ type: 'linear', factor: 8 });
    expect(() =>
      normalizeConfig({ ...llama, rope_scaling: { rope_type: 'yarn', factor: 4 } }, hasAll),
    ).toThrow(/rope_scaling of type "yarn" is not supported/);
  });

  it('finds the multimodal Gemma3 text model and its weight prefix', () => {
    const text = JSON.parse(readFileSync(join(TINY, 'gemma3-tiny/config.json'), 'utf8'));
    const o = normalizeConfig({ model_type: 'gemma3', text_config: text }, (n) =>
      n.startsWith('model.language_model.'),
    );
    expect(o.weightPrefix).toBe('model.language_model.');
    expect(o.layerKinds).toEqual(['sliding', 'full', 'sliding']);
    expect(o.slidingRope.theta).toBe(10000);
    expect(o.rope.theta).toBe(1_000_000);
  });

  it("gives Mistral's sliding_window to every layer: none when null, 4096 when absent", () => {
    const mistral = (extra: object) => normalizeConfig({ ...llama, model_type: 'mistral', ...extra }, hasAll);
    expect(mistral({ sliding_window: null })).toMatchObject({
      slidingWindow: null,
      layerKinds: ['full', 'full'],
    });
    expect(mistral({ sliding_window: 4 })).toMatchObject({
      slidingWindow: 4,
      layerKinds: ['sliding', 'sliding'],
    });
    expect(mistral({})).toMatchObject({ slidingWindow: 4096, layerKinds: ['sliding', 'sliding'] });
    expect(mistral({ attention_bias: true, mlp_bias: true })).toMatchObject({
      qkvBias: false,
      oBias: false,
      mlpBias: false,
    });
  });

  it('derives Gemma3 layer kinds from sliding_window_pattern when layer_types is absent', () => {
    const text = JSON.parse(readFileSync(join(TINY, 'gemma3-tiny/config.json'), 'utf8'));
    const { layer_types: _drop, ...rest } = text;
    const o = normalizeConfig({ ...rest, num_hidden_layers: 6, sliding_window_pattern: 3 }, hasAll);
    expect(o.layerKinds).toEqual(['sliding', 'sliding', 'full', 'sliding', 'sliding', 'full']);
  });
});
