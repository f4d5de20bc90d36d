// Weight precisions the engine runs at. f32: every weight cast to float32 (exact, the fixtures'
// reference). int8 / int4: the decoder's linear weights and the LM head quantized block-wise
// (block-quantize.ts) and multiplied by ORT's MatMulNBits; embeddings, norms, biases and every
// LoRA branch stay as stored or in float32. `auto`: the most precise one that fits in memory.
export const PRECISIONS = ['f32', 'int8', 'int4'] as const;
export type Precision = (typeof PRECISIONS)[number];

export const PRECISION_PREFERENCES = ['auto', ...PRECISIONS] as const;
export type PrecisionPreference = (typeof PRECISION_PREFERENCES)[number];

export function isPrecisionPreference(value: unknown): value is PrecisionPreference {
  return typeof value === 'string' && (PRECISION_PREFERENCES as readonly string[]).includes(value);
}

/** Bits per quantized weight code. */
export const BITS: Readonly<Record<Exclude<Precision, 'f32'>, 4 | 8>> = { int8: 8, int4: 4 };

/**
 * Weights per scale. 32 is the block of llama.cpp's Q4_0/Q8_0 and of MLAS's fastest int8-compute
 * kernels: a float32 scale per 32 weights costs 1 bit per weight (int4: 5 bits in all, int8: 9), and
 * smaller blocks follow a row's outliers more closely than 64 or 128 do (measured in bench/engine.ts).
 */
export const BLOCK_SIZE = 32;
