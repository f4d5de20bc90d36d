// `--precision auto`: the most precise weights that fit in the memory this process can have,
// with room for the KV cache and the runtime's working buffers.
import { freemem } from 'node:os';
import { tensorNames } from '../checkpoint/tensor-names';
import type { TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import {
  AUTO_PRECISIONS,
  BITS,
  BLOCK_SIZE,
  isQuantized,
  type Precision,
  type PrecisionPreference,
} from './precision';
import { type QuantizedWeights, quantizedBytes, quantizedNames } from './quantized-weights';

/** Peak memory over weight bytes + KV cache that a session is allowed (the engine's target). */
const HEADROOM = 1.3;
/** Context the estimate reserves KV cache for. */
const CONTEXT = 2048;

export interface PrecisionChoice {
  readonly precision: Precision;
  /** Why, in a line: the estimate and the memory it was compared with. */
  readonly reason: string;
}

/** Memory available to this process: cgroup limits included where Node knows them. */
export function availableMemory(): number {
  const fromProcess = (process as { availableMemory?: () => number }).availableMemory?.();
  return fromProcess && fromProcess > 0 ? fromProcess : freemem();
}

export function weightBytes(o: ModelOptions, tensors: TensorSource, precision: Precision): number {
  if (isQuantized(precision)) return quantizedBytes(o, tensors, BITS[precision], BLOCK_SIZE);
  let values = 0;
  for (const name of tensors.names()) {
    if (!name.startsWith(o.weightPrefix) && name !== 'lm_head.weight') continue;
    values += (tensors.get(name)?.shape ?? []).reduce((a, b) => a * b, 1);
  }
  // f16: the linear weights at 2 bytes; the norms that stay float32 are too few to count.
  return values * (precision === 'f16' ? 2 : 4);
}

export function kvCacheBytes(o: ModelOptions, context = CONTEXT): number {
  return o.numLayers * 2 * o.numKvHeads * o.headDim * 4 * context;
}

export function choosePrecision(
  preference: PrecisionPreference,
  o: ModelOptions,
  tensors: TensorSource,
  available = availableMemory(),
): PrecisionChoice {
  const need = (p: Precision) => HEADROOM * (weightBytes(o, tensors, p) + kvCacheBytes(o));
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (preference !== 'auto') {
    return {
      precision: preference,
      reason: `${preference}: asked for (needs about ${gib(need(preference))})`,
    };
  }
  // The reasons name what each precision needs, not the memory free at this moment: a report
  // (and its cache entry) must not change from one run to the next on the same machine.
  const tooLarge: string[] = [];
  for (const p of AUTO_PRECISIONS) {
    if (need(p) <= available) {
      const before = tooLarge.length > 0 ? ` (${tooLarge.join(', ')}: more than the memory available)` : '';
      return { precision: p, reason: `${p}: the most precise that fits, about ${gib(need(p))}${before}` };
    }
    tooLarge.push(`${p} needs about ${gib(need(p))}`);
  }
  return {
    precision: 'int4',
    reason: `int4: the smallest, though ${tooLarge.join(', ')}: more than the memory available`,
  };
}

/**
 * The model's weight bytes at its precision (the embedding table as stored counted, though it stays
 * in its file), and what one decoded token reads: every linear weight and the LM head once (codes
 * and scales when quantized), the embedding row and norms not counted.
 */
export function weightFootprint(
  o: ModelOptions,
  tensors: TensorSource,
  quantized?: QuantizedWeights,
  half = false,
): { bytes: number; readPerToken: number } {
  const names = quantizedNames(o);
  if (quantized) {
    let read = 0;
    for (const name of names) {
      const ref = quantized.nbits(name);
      if (ref) read += ref.codes.length + ref.scales.length;
    }
    // The model's weights at this precision: the copy, and the embedding table as stored, which
    // stays in the checkpoint (runtime/embedding-rows.ts reads a run's rows).
    const embed = tensors.get(tensorNames(o.weightPrefix).embed)?.byteLength ?? 0;
    return { bytes: quantized.bytes + embed, readPerToken: read };
  }
  const params = names.reduce(
    (n, name) => n + (tensors.get(name)?.shape ?? []).reduce((a, b) => a * b, 1),
    0,
  );
  const precision = half ? 'f16' : 'f32';
  return { bytes: weightBytes(o, tensors, precision), readPerToken: (half ? 2 : 4) * params };
}
