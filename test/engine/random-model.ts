// Tiny random checkpoints in Hugging Face layout (config.json + one float32 model.safetensors),
// for shapes the shared fixtures do not have (a head_dim that is not a multiple of 8).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type F32Tensor, f32SafetensorsBytes } from './helpers';

export interface RandomShape {
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** Standard normal draws from a seeded generator (mulberry32 + Box-Muller). */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export function qwen3Config(s: RandomShape, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: s.vocab,
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.headDim,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: true,
    max_position_embeddings: 512,
    hidden_act: 'silu',
    attention_bias: false,
    torch_dtype: 'float32',
    ...extra,
  };
}

export function gemma3Config(s: RandomShape, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['Gemma3ForCausalLM'],
    model_type: 'gemma3_text',
    vocab_size: s.vocab,
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.headDim,
    query_pre_attn_scalar: s.headDim,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    rope_local_base_freq: 10000,
    rope_scaling: null,
    hidden_activation: 'gelu_pytorch_tanh',
    tie_word_embeddings: true,
    max_position_embeddings: 512,
    torch_dtype: 'float32',
    ...extra,
  };
}

/**
 * Writes config.json and random weights of that config's family (qwen3 or gemma3_text) into
 * `dir`. Weights are N(0, 1/in) (the embeddings N(0, 1/hidden), so that the tied head does not
 * just repeat the input token); Gemma's norm weights are offsets from one, the others scales near one.
 */
export function writeRandomModel(dir: string, config: Record<string, unknown>, seed: number): void {
  const s: RandomShape = {
    vocab: config.vocab_size as number,
    hidden: config.hidden_size as number,
    intermediate: config.intermediate_size as number,
    layers: config.num_hidden_layers as number,
    heads: config.num_attention_heads as number,
    kvHeads: config.num_key_value_heads as number,
    headDim: config.head_dim as number,
  };
  const gemma = config.model_type === 'gemma3_text';
  const next = normals(seed);
  const tensors: F32Tensor[] = [];
  const add = (name: string, shape: number[], mean: number, std: number) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = mean + std * next();
    tensors.push({ name, shape, data });
  };
  const norm = (name: string, size: number) => add(name, [size], gemma ? 0 : 1, 0.1);
  const linear = (name: string, out: number, inF: number) => add(name, [out, inF], 0, 1 / Math.sqrt(inF));
  add('model.embed_tokens.weight', [s.vocab, s.hidden], 0, 1 / Math.sqrt(s.hidden));
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}`;
    norm(`${p}.input_layernorm.weight`, s.hidden);
    linear(`${p}.self_attn.q_proj.weight`, q, s.hidden);
    linear(`${p}.self_attn.k_proj.weight`, kv, s.hidden);
    linear(`${p}.self_attn.v_proj.weight`, kv, s.hidden);
    linear(`${p}.self_attn.o_proj.weight`, s.hidden, q);
    norm(`${p}.self_attn.q_norm.weight`, s.headDim);
    norm(`${p}.self_attn.k_norm.weight`, s.headDim);
    norm(`${p}.post_attention_layernorm.weight`, s.hidden);
    if (gemma) {
      norm(`${p}.pre_feedforward_layernorm.weight`, s.hidden);
      norm(`${p}.post_feedforward_layernorm.weight`, s.hidden);
    }
    linear(`${p}.mlp.gate_proj.weight`, s.intermediate, s.hidden);
    linear(`${p}.mlp.up_proj.weight`, s.intermediate, s.hidden);
    linear(`${p}.mlp.down_proj.weight`, s.hidden, s.intermediate);
  }
  norm('model.norm.weight', s.hidden);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'model.safetensors'), f32SafetensorsBytes(tensors));
}
