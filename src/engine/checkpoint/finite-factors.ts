// An adapter's numbers must be numbers: a NaN or infinite value in lora_A / lora_B, or a scale
// (lora_alpha / r) that overflows float32 once folded into B, would only show as NaN logits later.
import { InputError, type LoraAdapter } from './types';

const F32_MAX = 3.4028234663852886e38;

export function requireFiniteFactors(adapter: LoraAdapter): LoraAdapter {
  for (const f of adapter.factors) {
    const what = `adapter ${adapter.source}: layer ${f.layer} ${f.module}`;
    if (!Number.isFinite(f.scale) || Math.abs(f.scale) > F32_MAX) {
      throw new InputError(`${what} has a LoRA scale of ${f.scale}, not a finite float32`);
    }
    for (const [name, values] of [
      ['lora_A', f.A],
      ['lora_B', f.B],
    ] as const) {
      if (largestMagnitude(values) === undefined) {
        throw new InputError(`${what}: ${name} holds NaN or infinite values`);
      }
    }
    if ((largestMagnitude(f.B) ?? 0) * Math.abs(f.scale) > F32_MAX) {
      throw new InputError(
        `${what}: its LoRA scale ${f.scale} (lora_alpha / r) times lora_B overflows float32`,
      );
    }
  }
  return adapter;
}

/** The largest |x|, or undefined when a value is NaN or infinite. */
function largestMagnitude(values: Float32Array): number | undefined {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const m = Math.abs(values[i]);
    if (!(m <= F32_MAX)) return undefined;
    if (m > max) max = m;
  }
  return max;
}
