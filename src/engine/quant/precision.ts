// Weight precisions the engine runs at, most precise first. f32: every weight cast to float32
// (exact, the fixtures' reference). f16: the decoder's linear weights and the LM head in float16,
// multiplied in float16. int8 / int4: those weights quantized block-wise (block-quantize.ts) and
// multiplied by ORT's MatMulNBits. Embeddings, norms, biases and every LoRA branch stay as stored
// or in float32. `auto`: the most precise of f32, int8 and int4 that fits in memory.
import type { AttentionKernel } from '../graph/attention-kernel';

export const PRECISIONS = ['f32', 'f16', 'int8', 'int4'] as const;
export type Precision = (typeof PRECISIONS)[number];

export const PRECISION_PREFERENCES = ['auto', ...PRECISIONS] as const;
export type PrecisionPreference = (typeof PRECISION_PREFERENCES)[number];

export function isPrecisionPreference(value: unknown): value is PrecisionPreference {
  return typeof value === 'string' && (PRECISION_PREFERENCES as readonly string[]).includes(value);
}

/** The precisions whose weights are quantized block-wise (a copy in the quantized cache). */
export type QuantizedPrecision = 'int8' | 'int4';

export function isQuantized(precision: Precision): precision is QuantizedPrecision {
  return precision === 'int8' || precision === 'int4';
}

/**
 * Why `precision` cannot run on `provider` with that attention, or undefined. f16 is for GPU
 * providers: ORT 1.30's CPU float16 Gemm computes through float32 copies, so on the CPU f16 held
 * more memory than f32 and decoded slower (Qwen3-0.6B: peak 3.5× its weights + KV, 112 ms a token
 * against f32's 94; bench/engine.ts).
 */
export function precisionUnsupportedOn(
  precision: Precision,
  provider: string,
  attention: AttentionKernel = 'gqa',
): string | undefined {
  if (precision === 'f16' && provider === 'cpu')
    return 'f16 weights run on a GPU provider (CUDA or WebGPU); on the CPU use f32, int8 or int4';
  // ORT 1.30's WebGPU provider (over Mesa's lavapipe) decoded a random Qwen3 of head_dim 12 and
  // 4:2 heads wrongly at f16 with the composed attention (relative error 1.1 on every decoded row,
  // its prompt rows right; other head counts and f32 right): refused rather than ever wrong.
  if (precision === 'f16' && provider === 'webgpu' && attention === 'composed')
    return 'f16 weights on WebGPU need GroupQueryAttention, which cannot run this model (its head_dim is not a multiple of 8); use f32 or int8';
  return undefined;
}

/** What `auto` chooses from, most precise first: the precisions every provider runs. */
export const AUTO_PRECISIONS = ['f32', 'int8', 'int4'] as const satisfies readonly Precision[];

/** Bits per quantized weight code. */
export const BITS: Readonly<Record<QuantizedPrecision, 4 | 8>> = { int8: 8, int4: 4 };

/**
 * Weights per scale. 32 is the block of llama.cpp's Q4_0/Q8_0 and of MLAS's fastest int8-compute
 * kernels: a float32 scale per 32 weights costs 1 bit per weight (int4: 5 bits in all, int8: 9), and
 * smaller blocks follow a row's outliers more closely than 64 or 128 do (measured in bench/engine.ts).
 */
export const BLOCK_SIZE = 32;
