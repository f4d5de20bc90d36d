import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPeftAdapter } from '../../src/engine/checkpoint/peft';
import { openSafetensorsFile } from '../../src/engine/checkpoint/safetensors';
import { InputError, LINEAR_MODULES, type LoraAdapter } from '../../src/engine/checkpoint/types';
import { type F32Tensor, f32SafetensorsBytes } from './helpers';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/tiny');
const FAMILIES = ['qwen3', 'llama', 'qwen2', 'gemma3'] as const;
const R1 = path.join(FIXTURES, 'qwen3-tiny-lora-r1');
const R4 = path.join(FIXTURES, 'qwen3-tiny-lora-r4');

type Tensor = F32Tensor;
type Config = Record<string, unknown>;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dit-peft-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function readTensors(dir: string): Promise<Tensor[]> {
  const source = await openSafetensorsFile(path.join(dir, 'adapter_model.safetensors'));
  const out: Tensor[] = [];
  for (const name of source.names()) {
    out.push({ name, shape: [...(source.get(name)?.shape ?? [])], data: await source.readFloat32(name) });
  }
  return out;
}

async function readConfig(dir: string): Promise<Config> {
  return JSON.parse(await readFile(path.join(dir, 'adapter_config.json'), 'utf8'));
}

let counter = 0;
/** Writes an adapter folder made from a fixture, changed by `edit`. */
async function variant(
  fixture: string,
  edit: { config?: (c: Config) => Config; tensors?: (t: Tensor[]) => Tensor[] } = {},
): Promise<string> {
  const dir = path.join(tmp, `adapter-${counter++}`);
  await mkdir(dir);
  const config = (edit.config ?? ((c) => c))(await readConfig(fixture));
  const tensors = (edit.tensors ?? ((t) => t))(await readTensors(fixture));
  await writeFile(path.join(dir, 'adapter_config.json'), JSON.stringify(config));
  await writeFile(path.join(dir, 'adapter_model.safetensors'), f32SafetensorsBytes(tensors));
  return dir;
}

const rename = (from: string, to: string) => (tensors: Tensor[]) =>
  tensors.map((t) => ({ ...t, name: t.name.replace(from, to) }));
const add =
  (...extra: Tensor[]) =>
  (tensors: Tensor[]) => [...tensors, ...extra];
const tensor = (name: string, shape: number[]): Tensor => ({
  name,
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
});
const KEY0 = 'base_model.model.model.layers.0.self_attn.q_proj';

async function expectRefusal(dir: Promise<string> | string, pattern: RegExp): Promise<void> {
  const error = await loadPeftAdapter(await dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).message).toMatch(pattern);
  expect((error as InputError).message).not.toContain('\n');
}

function scales(adapter: LoraAdapter): Record<string, number> {
  return Object.fromEntries(adapter.factors.map((f) => [`${f.layer}.${f.module}`, f.scale]));
}

function plain(adapter: LoraAdapter) {
  return adapter.factors.map((f) => ({ ...f, A: [...f.A], B: [...f.B] }));
}

describe('loadPeftAdapter on the fixtures', () => {
  it('reads qwen3-tiny-lora-r1: rank 1, 2 layers x 7 modules, scale lora_alpha / r', async () => {
    const adapter = await loadPeftAdapter(R1);
    expect(adapter.source).toBe(R1);
    expect(adapter.baseModel).toBe('qwen3-tiny');
    expect(adapter.factors).toHaveLength(14);
    expect(adapter.factors.map((f) => `${f.layer}.${f.module}`)).toEqual(
      [0, 1].flatMap((l) => LINEAR_MODULES.map((m) => `${l}.${m}`)),
    );
    const raw = await openSafetensorsFile(path.join(R1, 'adapter_model.safetensors'));
    for (const f of adapter.factors) {
      const parent = ['gate_proj', 'up_proj', 'down_proj'].includes(f.module) ? 'mlp' : 'self_attn';
      const prefix = `base_model.model.model.layers.${f.layer}.${parent}.${f.module}`;
      expect(f.rank).toBe(1);
      expect(f.scale).toBe(4);
      expect(raw.get(`${prefix}.lora_A.weight`)?.shape).toEqual([1, f.inFeatures]);
      expect(raw.get(`${prefix}.lora_B.weight`)?.shape).toEqual([f.outFeatures, 1]);
      expect([...f.A]).toEqual([...(await raw.readFloat32(`${prefix}.lora_A.weight`))]);
      expect([...f.B]).toEqual([...(await raw.readFloat32(`${prefix}.lora_B.weight`))]);
    }
    const q = adapter.factors.find((f) => f.module === 'q_proj');
    const down = adapter.factors.find((f) => f.module === 'down_proj');
    expect([q?.inFeatures, q?.outFeatures]).toEqual([64, 64]);
    expect([down?.inFeatures, down?.outFeatures]).toEqual([128, 64]);
  });

  for (const family of FAMILIES) {
    for (const kind of ['lora-r1', 'lora-r4', 'dit'] as const) {
      it(`reads ${family}-tiny-${kind} with the config's rank, layers and scale`, async () => {
        const dir = path.join(FIXTURES, `${family}-tiny-${kind}`);
        const config = await readConfig(dir);
        const base = JSON.parse(await readFile(path.join(FIXTURES, `${family}-tiny`, 'config.json'), 'utf8'));
        const adapter = await loadPeftAdapter(dir);
        const r = config.r as number;
        const alpha = config.lora_alpha as number;
        const scale = config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
        if (kind === 'lora-r4') {
          expect(config.use_rslora).toBe(true);
          expect(adapter.factors.map((f) => `${f.layer}.${f.module}`)).toEqual([
            '0.q_proj',
            '0.v_proj',
            '0.o_proj',
          ]);
        } else {
          expect(adapter.factors).toHaveLength(base.num_hidden_layers * 7);
        }
        for (const f of adapter.factors) {
          expect(f.rank).toBe(r);
          expect(f.scale).toBeCloseTo(scale, 12);
          expect(f.A).toHaveLength(r * f.inFeatures);
          expect(f.B).toHaveLength(f.outFeatures * r);
        }
      });
    }
  }

  it('uses alpha / sqrt(r) for rsLoRA (qwen3-tiny-lora-r4: 8 / sqrt 4 = 4, not 8 / 4)', async () => {
    const adapter = await loadPeftAdapter(R4);
    expect(adapter.factors.map((f) => f.scale)).toEqual([4, 4, 4]);
  });
});

describe('loadPeftAdapter key layouts and config features', () => {
  it('accepts keys with .default', async () => {
    const dir = await variant(R1, {
      tensors: (t) => t.map((x) => ({ ...x, name: x.name.replace(/\.weight$/, '.default.weight') })),
    });
    expect(plain(await loadPeftAdapter(dir))).toEqual(plain(await loadPeftAdapter(R1)));
  });

  it('accepts both Gemma3 multimodal prefixes', async () => {
    const gemma = path.join(FIXTURES, 'gemma3-tiny-lora-r1');
    const want = plain(await loadPeftAdapter(gemma));
    for (const prefix of [
      'base_model.model.language_model.model.layers.',
      'base_model.model.model.language_model.layers.',
    ]) {
      const dir = await variant(gemma, { tensors: rename('base_model.model.model.layers.', prefix) });
      expect(plain(await loadPeftAdapter(dir))).toEqual(want);
    }
  });

  it('takes r and alpha from rank_pattern / alpha_pattern (suffix, exact name or regex)', async () => {
    const patterns = {
      rank_pattern: { q_proj: 2, 'model.layers.1.mlp.down_proj': 4 },
      alpha_pattern: { 'layers\\.0\\.self_attn\\.(k|v)_proj': 16 },
    };
    // The weights have the ranks the patterns give: q_proj 2, layer 1's down_proj 4, the rest 1.
    const rankOf = (name: string) =>
      name.includes('.q_proj.') ? 2 : name.includes('layers.1.mlp.down_proj.') ? 4 : 1;
    const ranked = (tensors: Tensor[]) =>
      tensors.map((t) => {
        const shape = t.name.includes('lora_A') ? [rankOf(t.name), t.shape[1]] : [t.shape[0], rankOf(t.name)];
        return tensor(t.name, shape);
      });
    const adapter = await loadPeftAdapter(
      await variant(R1, { config: (c) => ({ ...c, ...patterns }), tensors: ranked }),
    );
    expect(adapter.factors.find((f) => f.layer === 1 && f.module === 'down_proj')?.rank).toBe(4);
    expect(scales(adapter)).toMatchObject({
      '0.q_proj': 2,
      '1.q_proj': 2,
      '1.down_proj': 1,
      '0.down_proj': 4,
      '0.k_proj': 16,
      '0.v_proj': 16,
      '1.k_proj': 4,
      '0.o_proj': 4,
    });
    const rs = await loadPeftAdapter(
      await variant(R1, { config: (c) => ({ ...c, ...patterns, use_rslora: true }), tensors: ranked }),
    );
    expect(scales(rs)['0.q_proj']).toBeCloseTo(4 / Math.sqrt(2), 12);
    expect(scales(rs)['0.k_proj']).toBe(16);
  });

  it('refuses an r or rank_pattern the weights do not have, as PEFT does', async () => {
    await expectRefusal(
      variant(R1, { config: (c) => ({ ...c, r: 1_000_000_000 }) }),
      /layer 0 q_proj has weights of rank 1, but r in its config says 1000000000/,
    );
    await expectRefusal(
      variant(R1, { config: (c) => ({ ...c, rank_pattern: { q_proj: 2 } }) }),
      /layer 0 q_proj has weights of rank 1, but rank_pattern in its config says 2/,
    );
  });

  it('supports target_modules as a regex string and as "all-linear"', async () => {
    const regex = await variant(R4, {
      config: (c) => ({ ...c, layers_to_transform: null, target_modules: '.*\\.(q_proj|v_proj|o_proj)' }),
    });
    expect((await loadPeftAdapter(regex)).factors).toHaveLength(3);
    const allLinear = await variant(R1, { config: (c) => ({ ...c, target_modules: 'all-linear' }) });
    expect((await loadPeftAdapter(allLinear)).factors).toHaveLength(14);
    const narrow = await variant(R4, {
      config: (c) => ({ ...c, layers_to_transform: null, target_modules: '.*\\.(q_proj|v_proj)' }),
    });
    await expectRefusal(
      narrow,
      /weights for model\.layers\.0\.self_attn\.o_proj, which its target_modules\/layers_to_transform do not select/,
    );
  });

  it('supports layers_to_transform as an int or a list, with layers_pattern', async () => {
    expect(
      (await loadPeftAdapter(await variant(R4, { config: (c) => ({ ...c, layers_to_transform: 0 }) })))
        .factors,
    ).toHaveLength(3);
    expect(
      (await loadPeftAdapter(await variant(R4, { config: (c) => ({ ...c, layers_pattern: 'layers' }) })))
        .factors,
    ).toHaveLength(3);
    await expectRefusal(
      variant(R4, { config: (c) => ({ ...c, layers_to_transform: [1] }) }),
      /do not select/,
    );
    await expectRefusal(
      variant(R4, { config: (c) => ({ ...c, layers_pattern: ['blocks'] }) }),
      /do not select/,
    );
    await expectRefusal(
      variant(R1, { config: (c) => ({ ...c, layers_to_transform: [0] }) }),
      /model\.layers\.1\..* do not select/,
    );
    await expectRefusal(
      variant(R4, { config: (c) => ({ ...c, target_modules: '.*q_proj' }) }),
      /layers_to_transform with a regex target_modules/,
    );
    await expectRefusal(
      variant(R1, { config: (c) => ({ ...c, layers_pattern: 'layers' }) }),
      /layers_pattern without layers_to_transform/,
    );
  });

  it('honours exclude_modules: the excluded module gets no LoRA factor, the others do', async () => {
    const excludeDown = (c: Config) => ({ ...c, exclude_modules: ['down_proj'] });
    const adapter = await loadPeftAdapter(
      await variant(R1, {
        config: excludeDown,
        tensors: (t) => t.filter((x) => !x.name.includes('.down_proj.')),
      }),
    );
    expect(adapter.factors.map((f) => `${f.layer}.${f.module}`)).toEqual(
      [0, 1].flatMap((l) => LINEAR_MODULES.filter((m) => m !== 'down_proj').map((m) => `${l}.${m}`)),
    );
    // Weights for an excluded module are refused rather than dropped: PEFT would ignore them.
    await expectRefusal(variant(R1, { config: excludeDown }), /mlp\.down_proj, which/);
  });
});

describe('loadPeftAdapter refuses what it does not support', () => {
  const withConfig = (patch: Config) => () => variant(R1, { config: (c) => ({ ...c, ...patch }) });
  const withTensors = (edit: (t: Tensor[]) => Tensor[]) => () => variant(R1, { tensors: edit });
  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      'another PEFT method',
      withConfig({ peft_type: 'LOHA' }),
      /is a "LOHA" adapter \(peft_type\), not LoRA, which dit-auditor does not support/,
    ],
    [
      'DoRA',
      withConfig({ use_dora: true }),
      /uses DoRA \(use_dora: true\), which dit-auditor does not support/,
    ],
    [
      'DoRA magnitude tensors',
      withTensors(add(tensor(`${KEY0}.lora_magnitude_vector`, [64]))),
      /uses DoRA \(tensor/,
    ],
    [
      'modules_to_save',
      withConfig({ modules_to_save: ['lm_head'] }),
      /saves whole modules \(modules_to_save: \["lm_head"\]\)/,
    ],
    ['bias training', withConfig({ bias: 'lora_only' }), /trains biases \(bias: "lora_only"\)/],
    ['base bias tensors', withTensors(add(tensor(`${KEY0}.bias`, [64]))), /trains biases/],
    ['LoRA bias tensors', withTensors(add(tensor(`${KEY0}.lora_B.bias`, [64]))), /has LoRA biases/],
    ['lora_bias', withConfig({ lora_bias: true }), /LoRA biases \(lora_bias: true\)/],
    ['fan_in_fan_out', withConfig({ fan_in_fan_out: true }), /fan_in_fan_out: true/],
    [
      'target lm_head',
      withConfig({ target_modules: ['q_proj', 'lm_head'] }),
      /puts LoRA on lm_head \(target_modules\)/,
    ],
    ['target embed_tokens', withConfig({ target_modules: ['embed_tokens'] }), /puts LoRA on the embeddings/],
    ['a regex target that takes lm_head', withConfig({ target_modules: '.*' }), /puts LoRA on lm_head/],
    [
      'embedding LoRA tensors',
      withTensors(add(tensor('base_model.model.model.embed_tokens.lora_embedding_A', [1, 512]))),
      /puts LoRA on the embeddings \(tensor "base_model\.model\.model\.embed_tokens\.lora_embedding_A"\)/,
    ],
    [
      'lm_head LoRA tensors',
      withTensors(add(tensor('base_model.model.lm_head.lora_A.weight', [1, 64]))),
      /puts LoRA on lm_head/,
    ],
    [
      'LoRA on a module that is not one of the seven',
      withTensors(add(tensor('base_model.model.model.layers.0.self_attn.q_norm.lora_A.weight', [1, 16]))),
      /tensor "base_model\.model\.model\.layers\.0\.self_attn\.q_norm\.lora_A\.weight", which is not the LoRA A or B of q_proj\/k_proj/,
    ],
    [
      'LoRA outside the decoder layers',
      withTensors(
        add(tensor('base_model.model.vision_tower.layers.0.self_attn.q_proj.lora_A.weight', [1, 16])),
      ),
      /which is not the LoRA A or B/,
    ],
    [
      'a module under the wrong parent',
      withTensors(add(tensor('base_model.model.model.layers.0.mlp.q_proj.lora_A.weight', [1, 16]))),
      /which is not the LoRA A or B/,
    ],
    [
      'an A without its B',
      withTensors((t) => t.filter((x) => x.name !== `${KEY0}.lora_B.weight`)),
      /has lora_A but no lora_B for layer 0 q_proj/,
    ],
    [
      'a B without its A',
      withTensors((t) => t.filter((x) => x.name !== `${KEY0}.lora_A.weight`)),
      /has lora_B but no lora_A for layer 0 q_proj/,
    ],
    [
      'an A/B rank mismatch',
      withTensors((t) => t.map((x) => (x.name === `${KEY0}.lora_B.weight` ? tensor(x.name, [64, 2]) : x))),
      /layer 0 q_proj has lora_A of rank 1 but lora_B of rank 2/,
    ],
    [
      'a factor that is not a matrix',
      withTensors((t) => t.map((x) => (x.name === `${KEY0}.lora_A.weight` ? tensor(x.name, [64]) : x))),
      /both must be non-empty matrices/,
    ],
    [
      'the same factor twice (with and without .default)',
      withTensors(add(tensor(`${KEY0}.lora_A.default.weight`, [1, 64]))),
      /two lora_A tensors for layer 0 q_proj/,
    ],
    ['an adapter with no tensors', withTensors(() => []), /holds no LoRA weights/],
    [
      'a regex with lookahead (RE2 has none)',
      withConfig({ target_modules: '(?=.*q).*_proj' }),
      /field target_modules has the pattern "\(\?=\.\*q\)\.\*_proj", which is not a regular expression dit-auditor can match/,
    ],
    [
      'an invalid regex',
      withConfig({ target_modules: '(q_proj' }),
      /not a regular expression dit-auditor can match/,
    ],
    [
      'a regex too long',
      withConfig({ target_modules: `${'q'.repeat(1001)}` }),
      /too long \(over 1000 characters\)/,
    ],
    [
      'a regex whose program is too large',
      withConfig({ target_modules: Array(6).fill('((.){1,30}){1,30}').join('|') }),
      /too complex to match/,
    ],
    ['r = 0', withConfig({ r: 0 }), /field r is not a positive integer/],
    ['layer replication', withConfig({ layer_replication: [[0, 2]] }), /layer_replication/],
    ['trainable tokens', withConfig({ trainable_token_indices: [1, 2] }), /trainable_token_indices/],
    ['activated LoRA', withConfig({ alora_invocation_tokens: [5] }), /activated LoRA/],
  ];
  for (const [what, make, pattern] of cases) {
    it(`refuses ${what}`, async () => {
      await expectRefusal(make(), pattern);
    });
  }

  it('refuses folders that are not PEFT safetensors adapters', async () => {
    const dir = path.join(tmp, 'partial');
    await mkdir(dir);
    await expectRefusal(dir, /has no adapter_config\.json/);
    await writeFile(path.join(dir, 'adapter_config.json'), '{"peft_type": ');
    await expectRefusal(dir, /adapter_config\.json: not valid JSON/);
    await writeFile(path.join(dir, 'adapter_config.json'), JSON.stringify(await readConfig(R1)));
    await expectRefusal(dir, /has no adapter_model\.safetensors/);
    await writeFile(path.join(dir, 'adapter_model.bin'), 'PK');
    await expectRefusal(
      dir,
      /adapter_model\.bin, a pickle, which dit-auditor does not load; save it as safetensors/,
    );
    await expectRefusal(path.join(tmp, 'nowhere'), /no such folder/);
  });
});
