// Typed readers of config.json fields that every family shares; each error names the field.
import { InputError } from '../checkpoint/types';
import type { Activation, LayerKind, Rope, RopeScaling } from './model-options';
import { SIZE_LIMITS } from './size-limits';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function int(c: Json, key: string): number {
  const v = optInt(c, key);
  if (v === undefined) throw new InputError(`config.json has no integer ${key}`);
  return v;
}

export function optInt(c: Json, key: string): number | undefined {
  const v = c[key];
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || (v as number) < 0)
    throw new InputError(`config.json ${key} is not a non-negative integer`);
  const limit = SIZE_LIMITS[key];
  if (limit !== undefined && (v as number) > limit)
    throw new InputError(
      `config.json ${key} is ${v}, larger than any model's (dit-auditor takes at most ${limit})`,
    );
  return v as number;
}

export function num(c: Json, key: string, fallback?: number): number {
  const v = c[key];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new InputError(`config.json has no number ${key}`);
    return fallback;
  }
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new InputError(`config.json ${key} is not a number`);
  return v;
}

/** A number that must be above zero (a RoPE base or scaling factor, a softmax scalar). */
export function positive(c: Json, key: string, fallback?: number, shown = key): number {
  const v = num(c, key, fallback);
  if (!(v > 0)) throw new InputError(`config.json ${shown} is ${v}, not a number above zero`);
  return v;
}

export function optNum(c: Json, key: string): number | null {
  const v = c[key];
  return v === undefined || v === null ? null : num(c, key);
}

export function bool(c: Json, key: string, fallback: boolean): boolean {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new InputError(`config.json ${key} is not true or false`);
  return v;
}

export function activation(name: unknown): Activation {
  if (name === 'silu' || name === 'swish') return 'silu';
  if (name === 'gelu_pytorch_tanh' || name === 'gelu_new') return 'gelu_tanh';
  throw new InputError(
    `activation ${JSON.stringify(name)} is not supported (supported: silu, gelu_pytorch_tanh)`,
  );
}

/** `layer_types` when the config lists them. */
export function layerTypes(c: Json, numLayers: number): LayerKind[] | null {
  const t = c.layer_types;
  if (t === undefined || t === null) return null;
  if (!Array.isArray(t) || t.length !== numLayers) {
    throw new InputError(`config.json layer_types must list ${numLayers} layers`);
  }
  return t.map((k) => {
    if (k === 'full_attention') return 'full';
    if (k === 'sliding_attention') return 'sliding';
    throw new InputError(`config.json layer type ${JSON.stringify(k)} is not supported`);
  });
}

export function ropeOf(c: Json, defaultTheta: number): Rope {
  // transformers 5 moves rope_theta and rope_scaling into rope_parameters.
  if (isObject(c.rope_parameters)) return ropeFromParameters(c.rope_parameters, defaultTheta);
  return { theta: positive(c, 'rope_theta', defaultTheta), scaling: ropeScaling(c.rope_scaling) };
}

export function ropeFromParameters(p: Json, defaultTheta: number): Rope {
  return { theta: positive(p, 'rope_theta', defaultTheta), scaling: ropeScaling(p) };
}

function ropeScaling(s: unknown): RopeScaling {
  if (s === null || s === undefined) return { type: 'default' };
  if (!isObject(s)) throw new InputError('config.json rope_scaling is not an object');
  const type = s.rope_type ?? s.type ?? 'default';
  switch (type) {
    case 'default':
      return { type: 'default' };
    case 'linear':
      return { type: 'linear', factor: positive(s, 'factor', undefined, 'rope_scaling factor') };
    case 'llama3': {
      const lowFreqFactor = positive(s, 'low_freq_factor', 1, 'rope_scaling low_freq_factor');
      const highFreqFactor = positive(s, 'high_freq_factor', 4, 'rope_scaling high_freq_factor');
      if (!(highFreqFactor > lowFreqFactor)) {
        throw new InputError(
          `config.json rope_scaling high_freq_factor ${highFreqFactor} is not above low_freq_factor ${lowFreqFactor}`,
        );
      }
      const originalMaxPositionEmbeddings = int(s, 'original_max_position_embeddings');
      if (originalMaxPositionEmbeddings === 0)
        throw new InputError('config.json rope_scaling original_max_position_embeddings is 0');
      return {
        type: 'llama3',
        factor: positive(s, 'factor', undefined, 'rope_scaling factor'),
        lowFreqFactor,
        highFreqFactor,
        originalMaxPositionEmbeddings,
      };
    }
    default:
      throw new InputError(
        `rope_scaling of type ${JSON.stringify(type)} is not supported (supported: default, linear, llama3)`,
      );
  }
}
