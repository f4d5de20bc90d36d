// Which attention a graph is built with, per execution provider. On the CPU, the attention composed
// of standard ops and FusedMatMul (composed-attention.ts), which reads the KV cache in place and
// serves any config normalize-config.ts accepts: onnxruntime's fused GroupQueryAttention, fed a
// read-only past, copies each layer's whole cache on every run (Qwen3-0.6B int4, decode at 2048
// positions: 74 ms against 136, bench/engine.ts). On the GPU providers, GroupQueryAttention (their
// fused kernels) where it can serve; it checks at run time, mid-run, so the choice is made here,
// at load. Both ran on the WebGPU provider over Mesa's software Vulkan (the fixtures with
// GroupQueryAttention; random Qwen3/Gemma3 of head_dim 10, 12 and 20 composed, within 1e-6 of the
// CPU at f32), never on a real GPU.
import { InputError } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import type { ProviderName } from '../runtime/providers';

export type AttentionKernel = 'gqa' | 'composed';
/** `auto`: composed on the CPU, GroupQueryAttention elsewhere where it can serve. The others force one (tests, benchmarks). */
export type AttentionChoice = 'auto' | AttentionKernel;

/**
 * Why GroupQueryAttention (onnxruntime 1.30, CPU) cannot run a model of these options, or null.
 * Measured on a graph of that op alone, over its input checks: it refuses a head size that is not
 * a multiple of 8 ("head_size must be a multiple of 8", at run time). Everything else a config can
 * ask of it runs: any num_heads / kv_num_heads ratio, 4096 heads and head sizes up to 4096 (the
 * limits of config/size-limits.ts), local windows, soft-capping, batches of prompts and of decode
 * steps. Its other refusals are of inputs the runtime never sends (several rows of more than one
 * token continuing a past; a total length beyond the KV buffers).
 */
export function gqaRefusal(o: Pick<ModelOptions, 'headDim'>): string | null {
  if (o.headDim % 8 !== 0) return `its head_dim ${o.headDim} is not a multiple of 8`;
  return null;
}

export function attentionKernel(
  o: ModelOptions,
  choice: AttentionChoice = 'auto',
  provider: ProviderName = 'cpu',
): AttentionKernel {
  const refusal = gqaRefusal(o);
  if (choice === 'gqa' && refusal) {
    throw new InputError(`onnxruntime's GroupQueryAttention cannot run this model: ${refusal}`);
  }
  if (choice !== 'auto') return choice;
  return provider === 'cpu' || refusal ? 'composed' : 'gqa';
}
