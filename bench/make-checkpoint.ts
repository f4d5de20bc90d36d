// Writes a random Qwen3-shaped bf16 checkpoint and random rank-1 PEFT LoRA adapters for the
// engine benchmark. Everything is streamed to disk in small chunks (the 1.2 GB of weights never
// sit in one JS buffer) and comes from a seeded PRNG, so a cache folder with the same seed and
// shape is reused as is.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ModelOptions } from '../src/engine/config/model-options';

export type Qwen3Shape = Pick<
  ModelOptions,
  'vocabSize' | 'hiddenSize' | 'intermediateSize' | 'numLayers' | 'numHeads' | 'numKvHeads' | 'headDim'
>;

/** A released model's shape: its family, whether the LM head is the embedding, its sliding layers. */
export interface BenchShape extends Qwen3Shape {
  readonly name: string;
  readonly family: 'qwen3' | 'gemma3';
  readonly tied: boolean;
  /** Gemma3: every `slidingPattern`-th layer is full, the others see `slidingWindow` tokens. */
  readonly slidingWindow?: number;
  readonly slidingPattern?: number;
}

/** Qwen3-0.6B's shape (Qwen/Qwen3-0.6B config.json). */
export const QWEN3_0_6B: BenchShape = {
  name: 'qwen3-0.6b',
  family: 'qwen3',
  tied: true,
  vocabSize: 151936,
  hiddenSize: 1024,
  intermediateSize: 3072,
  numLayers: 28,
  numHeads: 16,
  numKvHeads: 8,
  headDim: 128,
};

/** Qwen3-8B's shape (Qwen/Qwen3-8B config.json): the paper's main model. */
export const QWEN3_8B: BenchShape = {
  name: 'qwen3-8b',
  family: 'qwen3',
  tied: false,
  vocabSize: 151936,
  hiddenSize: 4096,
  intermediateSize: 12288,
  numLayers: 36,
  numHeads: 32,
  numKvHeads: 8,
  headDim: 128,
};

/** Gemma-3-4B's text decoder (google/gemma-3-4b-it text_config). */
export const GEMMA3_4B: BenchShape = {
  name: 'gemma3-4b',
  family: 'gemma3',
  tied: true,
  vocabSize: 262208,
  hiddenSize: 2560,
  intermediateSize: 10240,
  numLayers: 34,
  numHeads: 8,
  numKvHeads: 4,
  headDim: 256,
  slidingWindow: 1024,
  slidingPattern: 6,
};

export const BENCH_SHAPES: readonly BenchShape[] = [QWEN3_0_6B, QWEN3_8B, GEMMA3_4B];

export const LINEAR = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
type Linear = (typeof LINEAR)[number];

/** [out, in] of one linear module, as HF stores `weight`. */
export function linearDims(s: Qwen3Shape, m: Linear): [number, number] {
  const q = s.numHeads * s.headDim;
  const kv = s.numKvHeads * s.headDim;
  switch (m) {
    case 'q_proj':
      return [q, s.hiddenSize];
    case 'k_proj':
    case 'v_proj':
      return [kv, s.hiddenSize];
    case 'o_proj':
      return [s.hiddenSize, q];
    case 'gate_proj':
    case 'up_proj':
      return [s.intermediateSize, s.hiddenSize];
    case 'down_proj':
      return [s.hiddenSize, s.intermediateSize];
  }
}

export function moduleParent(m: Linear): 'mlp' | 'self_attn' {
  return m === 'gate_proj' || m === 'up_proj' || m === 'down_proj' ? 'mlp' : 'self_attn';
}

// ---- seeded randomness -------------------------------------------------------------------

/** mulberry32: a small, fast, seedable 32-bit generator. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** 65536 standard-normal draws (Box-Muller); elements are picked from it by 16 random bits. */
function normalTable(next: () => number): Float64Array {
  const table = new Float64Array(65536);
  for (let i = 0; i < table.length; i += 2) {
    const u1 = (next() + 1) / 4294967297;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    table[i] = r * Math.cos(2 * Math.PI * u2);
    table[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return table;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → bf16 bits, round to nearest even. */
export function toBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** A table of bf16 bit patterns of `mean + std * normal`. */
function bf16Table(normals: Float64Array, mean: number, std: number): Uint16Array {
  const t = new Uint16Array(normals.length);
  for (let i = 0; i < t.length; i++) t[i] = toBf16(mean + std * normals[i]);
  return t;
}

// ---- safetensors writing -------------------------------------------------------------------

interface PlannedTensor {
  readonly name: string;
  readonly dtype: 'BF16' | 'F32';
  readonly shape: readonly number[];
  /** Fills `out` (whole elements) with the tensor's next values. */
  readonly fill: (out: Uint16Array | Float32Array, next: () => number) => void;
}

const ELEMENT_BYTES = { BF16: 2, F32: 4 } as const;

/**
 * Streams tensors into a safetensors file: header first (data offsets are known from the shapes),
 * then each tensor's bytes in chunks of at most `chunkElements`.
 */
function writeSafetensors(
  file: string,
  tensors: readonly PlannedTensor[],
  seed: number,
  chunkElements = 1 << 23,
): number {
  const header: Record<string, unknown> = {
    __metadata__: { format: 'pt', generator: 'dit-auditor bench', seed: String(seed) },
  };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * ELEMENT_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  const tmp = `${file}.partial`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, prefix);
    writeSync(fd, headerBytes);
    const next = mulberry32(seed);
    const bf16Chunk = new Uint16Array(chunkElements);
    const f32Chunk = new Float32Array(chunkElements);
    for (const t of tensors) {
      let left = t.shape.reduce((a, b) => a * b, 1);
      while (left > 0) {
        const n = Math.min(left, chunkElements);
        const chunk = t.dtype === 'BF16' ? bf16Chunk.subarray(0, n) : f32Chunk.subarray(0, n);
        t.fill(chunk, next);
        const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        let written = 0;
        while (written < view.length) written += writeSync(fd, view, written, view.length - written);
        left -= n;
      }
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return 8 + headerBytes.length + offset;
}

/** Picks table entries by 16 random bits each (two elements per 32-bit draw). */
function tableFill(table: Uint16Array | Float32Array): PlannedTensor['fill'] {
  return (out, next) => {
    const n = out.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const r = next();
      out[i] = table[r & 0xffff];
      out[i + 1] = table[r >>> 16];
    }
    if (i < n) out[i] = table[next() & 0xffff];
  };
}

// ---- the checkpoint ------------------------------------------------------------------------

export interface CheckpointInfo {
  readonly dir: string;
  readonly reused: boolean;
  readonly generateMs: number;
  readonly fileBytes: number;
  /** Bytes of tensor data (bf16), i.e. the checkpoint's weights. */
  readonly tensorBytes: number;
  readonly adapters: readonly string[];
  /** A rank-16 bf16 PEFT adapter (lora_alpha 1, as the paper's DIT-adapter) to stack on a diff. */
  readonly interpreter: string;
}

const FORMAT_VERSION = 1;
/** The DIT-adapter's rank in the paper. */
const INTERPRETER_RANK = 16;

export function benchConfig(s: BenchShape): Record<string, unknown> {
  return s.family === 'gemma3' ? gemma3Config(s) : qwen3Config(s);
}

function gemma3Config(s: BenchShape): Record<string, unknown> {
  const pattern = s.slidingPattern ?? 6;
  return {
    architectures: ['Gemma3ForCausalLM'],
    model_type: 'gemma3_text',
    vocab_size: s.vocabSize,
    hidden_size: s.hiddenSize,
    intermediate_size: s.intermediateSize,
    num_hidden_layers: s.numLayers,
    num_attention_heads: s.numHeads,
    num_key_value_heads: s.numKvHeads,
    head_dim: s.headDim,
    query_pre_attn_scalar: s.headDim,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    rope_local_base_freq: 10000,
    rope_scaling: { rope_type: 'linear', factor: 8 },
    sliding_window: s.slidingWindow ?? 1024,
    sliding_window_pattern: pattern,
    layer_types: Array.from({ length: s.numLayers }, (_, l) =>
      (l + 1) % pattern === 0 ? 'full_attention' : 'sliding_attention',
    ),
    hidden_activation: 'gelu_pytorch_tanh',
    final_logit_softcapping: null,
    attn_logit_softcapping: null,
    tie_word_embeddings: true,
    max_position_embeddings: 131072,
    torch_dtype: 'bfloat16',
    bos_token_id: 2,
    eos_token_id: 1,
  };
}

export function qwen3Config(s: Qwen3Shape & { tied?: boolean }): Record<string, unknown> {
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: s.vocabSize,
    hidden_size: s.hiddenSize,
    intermediate_size: s.intermediateSize,
    num_hidden_layers: s.numLayers,
    num_attention_heads: s.numHeads,
    num_key_value_heads: s.numKvHeads,
    head_dim: s.headDim,
    hidden_act: 'silu',
    attention_bias: false,
    tie_word_embeddings: s.tied ?? true,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    rope_scaling: null,
    max_position_embeddings: 40960,
    torch_dtype: 'bfloat16',
    bos_token_id: 151643,
    eos_token_id: 151645,
  };
}

function checkpointTensors(s: BenchShape, seed: number): PlannedTensor[] {
  const normals = normalTable(mulberry32(seed ^ 0x9e3779b9));
  const weights = tableFill(bf16Table(normals, 0, 0.02));
  // Gemma3 scales by (1 + weight): its stored norms sit around 0.
  const norms = tableFill(bf16Table(normals, s.family === 'gemma3' ? 0 : 1, 0.02));
  const layerNorms =
    s.family === 'gemma3'
      ? [
          'input_layernorm',
          'post_attention_layernorm',
          'pre_feedforward_layernorm',
          'post_feedforward_layernorm',
        ]
      : ['input_layernorm', 'post_attention_layernorm'];
  const list: PlannedTensor[] = [
    { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [s.vocabSize, s.hiddenSize], fill: weights },
  ];
  for (let l = 0; l < s.numLayers; l++) {
    const p = `model.layers.${l}`;
    for (const n of layerNorms) {
      list.push({ name: `${p}.${n}.weight`, dtype: 'BF16', shape: [s.hiddenSize], fill: norms });
    }
    for (const m of LINEAR) {
      list.push({
        name: `${p}.${moduleParent(m)}.${m}.weight`,
        dtype: 'BF16',
        shape: linearDims(s, m),
        fill: weights,
      });
    }
    list.push({ name: `${p}.self_attn.q_norm.weight`, dtype: 'BF16', shape: [s.headDim], fill: norms });
    list.push({ name: `${p}.self_attn.k_norm.weight`, dtype: 'BF16', shape: [s.headDim], fill: norms });
  }
  list.push({ name: 'model.norm.weight', dtype: 'BF16', shape: [s.hiddenSize], fill: norms });
  if (!s.tied) {
    list.push({ name: 'lm_head.weight', dtype: 'BF16', shape: [s.vocabSize, s.hiddenSize], fill: weights });
  }
  return list;
}

function adapterTensors(
  s: Qwen3Shape,
  seed: number,
  rank = 1,
  dtype: 'F32' | 'BF16' = 'F32',
): PlannedTensor[] {
  const normals = normalTable(mulberry32(seed ^ 0x85ebca6b));
  // A small, B larger: the rank-1 delta B·A·x is a visible fraction of W·x (so a swap shows).
  const table = (std: number) =>
    dtype === 'F32' ? Float32Array.from(normals, (v) => std * v) : bf16Table(normals, 0, std);
  const aFill = tableFill(table(0.02));
  const bFill = tableFill(table(0.1));
  const list: PlannedTensor[] = [];
  for (let l = 0; l < s.numLayers; l++) {
    for (const m of LINEAR) {
      const [out, inF] = linearDims(s, m);
      const p = `base_model.model.model.layers.${l}.${moduleParent(m)}.${m}`;
      list.push({ name: `${p}.lora_A.weight`, dtype, shape: [rank, inF], fill: aFill });
      list.push({ name: `${p}.lora_B.weight`, dtype, shape: [out, rank], fill: bFill });
    }
  }
  return list;
}

/** A PEFT config naming `base` (the bench checkpoint's folder name) as its base model. */
function adapterConfig(base: string, rank = 1): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: rank,
    lora_alpha: 1,
    target_modules: [...LINEAR],
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    modules_to_save: null,
    layers_to_transform: null,
    rank_pattern: {},
    alpha_pattern: {},
    inference_mode: true,
    base_model_name_or_path: base,
  };
}

/**
 * Makes (or reuses) `root/<name>` with config.json + model.safetensors, `root/<name>-lora-{a,b,…}`:
 * 2 + `extra` rank-1 PEFT adapters (A and B for the figures, the extra ones to time swaps to diffs
 * the engine has not read yet), and `root/<name>-dit`: a rank-16 bf16 interpreter adapter. Each folder has a stamp of seed, shape and format; a folder whose
 * stamp differs is regenerated, the others are reused.
 */
export function ensureBenchCheckpoint(
  root: string,
  shape: BenchShape,
  seed: number,
  extra = 0,
  name = `${shape.name}-random`,
): CheckpointInfo {
  const dir = join(root, name);
  const tensors = checkpointTensors(shape, seed);
  const tensorBytes = tensors.reduce(
    (n, t) => n + t.shape.reduce((a, b) => a * b, 1) * ELEMENT_BYTES[t.dtype],
    0,
  );
  const weightsFile = join(dir, 'model.safetensors');
  const t0 = performance.now();
  const modelReused = ensureFolder(
    dir,
    { version: FORMAT_VERSION, seed, shape },
    ['config.json', 'model.safetensors'],
    () => {
      writeFileSync(join(dir, 'config.json'), `${JSON.stringify(benchConfig(shape), null, 2)}\n`);
      writeSafetensors(weightsFile, tensors, seed);
    },
  );
  const adapters = Array.from({ length: 2 + extra }, (_, i) => {
    const d = join(root, `${name}-lora-${String.fromCharCode(97 + i)}`);
    const adapterSeed = seed + 1 + i;
    ensureFolder(
      d,
      { version: FORMAT_VERSION, seed: adapterSeed, shape, base: name },
      ['adapter_config.json', 'adapter_model.safetensors'],
      () => {
        writeFileSync(join(d, 'adapter_config.json'), `${JSON.stringify(adapterConfig(name), null, 2)}\n`);
        writeSafetensors(
          join(d, 'adapter_model.safetensors'),
          adapterTensors(shape, adapterSeed),
          adapterSeed,
        );
      },
    );
    return d;
  });
  const interpreter = join(root, `${name}-dit`);
  const interpreterSeed = seed + 1000;
  ensureFolder(
    interpreter,
    {
      version: FORMAT_VERSION,
      seed: interpreterSeed,
      shape,
      rank: INTERPRETER_RANK,
      dtype: 'BF16',
      base: name,
    },
    ['adapter_config.json', 'adapter_model.safetensors'],
    () => {
      writeFileSync(
        join(interpreter, 'adapter_config.json'),
        `${JSON.stringify(adapterConfig(name, INTERPRETER_RANK), null, 2)}\n`,
      );
      writeSafetensors(
        join(interpreter, 'adapter_model.safetensors'),
        adapterTensors(shape, interpreterSeed, INTERPRETER_RANK, 'BF16'),
        interpreterSeed,
      );
    },
  );
  return {
    dir,
    reused: modelReused,
    generateMs: modelReused ? 0 : performance.now() - t0,
    fileBytes: statSync(weightsFile).size,
    tensorBytes,
    adapters,
    interpreter,
  };
}

/** Reuses `dir` when its stamp matches and its files exist; else empties it and calls `make`. */
function ensureFolder(dir: string, stampOf: unknown, files: readonly string[], make: () => void): boolean {
  const stampFile = join(dir, 'bench-stamp.json');
  const stamp = JSON.stringify(stampOf);
  const intact =
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8') === stamp &&
    files.every((f) => existsSync(join(dir, f)));
  if (intact) return true;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  make();
  writeFileSync(stampFile, stamp);
  return false;
}
