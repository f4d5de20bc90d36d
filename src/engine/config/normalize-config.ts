// config.json → ModelOptions, once: the family its model_type names reads it (field defaults as
// its transformers configuration class has them); the weight prefix is the one the checkpoint has.
import { tensorNames } from '../checkpoint/tensor-names';
import { InputError } from '../checkpoint/types';
import { familyOf } from '../families/registry';
import { isObject } from './config-fields';
import type { ModelOptions } from './model-options';

/** `hasTensor` tells which weight prefix the checkpoint uses (Gemma3's multimodal ones have two). */
export function normalizeConfig(raw: unknown, hasTensor: (name: string) => boolean): ModelOptions {
  if (!isObject(raw)) throw new InputError('config.json is not a JSON object');
  const modelType = raw.model_type;
  const family = familyOf(modelType);
  const options = family.normalize(raw);
  return checked({
    ...options,
    modelType: modelType as string,
    weightPrefix: pickPrefix(family.weightPrefixes, hasTensor),
  });
}

function checked(o: ModelOptions): ModelOptions {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new InputError(`config.json is inconsistent: ${what}`);
  };
  check(Number.isInteger(o.headDim) && o.headDim > 0, `head_dim ${o.headDim} is not a positive integer`);
  check(o.headDim % 2 === 0, `head_dim ${o.headDim} is odd, so RoPE cannot rotate it`);
  check(
    o.numHeads % o.numKvHeads === 0,
    `${o.numHeads} attention heads are not a multiple of ${o.numKvHeads} KV heads`,
  );
  check(
    o.layerKinds.length === o.numLayers,
    `layer_types lists ${o.layerKinds.length} layers, not ${o.numLayers}`,
  );
  check(
    o.layerKinds.every((k) => k === 'full') || (o.slidingWindow !== null && o.slidingWindow > 0),
    'sliding layers without a sliding_window',
  );
  return Object.freeze({ ...o, layerKinds: Object.freeze([...o.layerKinds]) });
}

function pickPrefix(prefixes: readonly string[], hasTensor: (name: string) => boolean): string {
  const found = prefixes.find((p) => hasTensor(tensorNames(p).embed));
  if (!found) {
    throw new InputError(
      `the checkpoint has no token embeddings (looked for ${prefixes.map((p) => tensorNames(p).embed).join(', ')})`,
    );
  }
  return found;
}
