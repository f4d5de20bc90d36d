// adapter_config.json to a PeftLoraConfig. Anything the adapter does beyond plain LoRA on the seven
// linear modules is refused, never dropped.

import { InputError, LINEAR_MODULES } from '../types';
import { ADAPTER_CONFIG } from './files';
import { isFiniteNumber, isNonEmpty, isNonNegativeInteger, isPositiveInteger } from './guards';
import {
  compileRegex,
  DEFAULT_LAYER_PATTERN,
  type ModulePattern,
  type ModuleSelector,
  parsePattern,
  parseSelector,
} from './patterns';

export interface PeftLoraConfig {
  readonly r: number;
  readonly alpha: number;
  readonly rslora: boolean;
  readonly targets: ModuleSelector;
  readonly exclude?: ModuleSelector;
  readonly layers?: number | readonly number[];
  readonly layerRegexes: readonly ModulePattern[];
  readonly rankPattern: readonly (readonly [ModulePattern, string, number])[];
  readonly alphaPattern: readonly (readonly [ModulePattern, string, number])[];
  readonly baseModel?: string;
}

export function parsePeftConfig(raw: Record<string, unknown>, dir: string): PeftLoraConfig {
  const refuse = (what: string) =>
    new InputError(`adapter ${dir} ${what}, which dit-auditor does not support`);
  const bad = (field: string, want: string) =>
    new InputError(`adapter ${dir}: ${ADAPTER_CONFIG} field ${field} is not ${want}`);
  const show = (value: unknown) => JSON.stringify(value)?.slice(0, 100);

  if (raw.peft_type !== undefined && raw.peft_type !== 'LORA') {
    throw refuse(`is a ${show(raw.peft_type)} adapter (peft_type), not LoRA`);
  }
  if (raw.use_dora === true) throw refuse('uses DoRA (use_dora: true)');
  if (Array.isArray(raw.modules_to_save) && raw.modules_to_save.length > 0) {
    throw refuse(`saves whole modules (modules_to_save: ${show(raw.modules_to_save)})`);
  }
  if (raw.bias !== undefined && raw.bias !== null && raw.bias !== 'none') {
    throw refuse(`trains biases (bias: ${show(raw.bias)})`);
  }
  if (raw.lora_bias === true) throw refuse('has LoRA biases (lora_bias: true)');
  if (raw.fan_in_fan_out === true) throw refuse('stores transposed weights (fan_in_fan_out: true)');
  if (raw.use_qalora === true) throw refuse('uses QA-LoRA (use_qalora: true)');
  if (isNonEmpty(raw.layer_replication)) throw refuse('replicates layers (layer_replication)');
  if (isNonEmpty(raw.target_parameters)) throw refuse('puts LoRA on parameters (target_parameters)');
  if (isNonEmpty(raw.trainable_token_indices)) {
    throw refuse('trains embedding rows (trainable_token_indices)');
  }
  if (isNonEmpty(raw.alora_invocation_tokens)) {
    throw refuse('is an activated LoRA (alora_invocation_tokens)');
  }

  const r = raw.r ?? 8;
  if (!isPositiveInteger(r)) throw bad('r', 'a positive integer');
  const alpha = raw.lora_alpha ?? 8;
  if (!isFiniteNumber(alpha)) throw bad('lora_alpha', 'a number');
  if (raw.use_rslora !== undefined && typeof raw.use_rslora !== 'boolean')
    throw bad('use_rslora', 'a boolean');

  const targets = parseSelector(raw.target_modules, 'target_modules', dir, bad) ?? {
    kind: 'names',
    names: LINEAR_MODULES,
  };
  refuseEmbeddingTargets(targets, refuse);
  const exclude = parseSelector(raw.exclude_modules, 'exclude_modules', dir, bad);

  const layers = raw.layers_to_transform ?? undefined;
  if (
    layers !== undefined &&
    !isNonNegativeInteger(layers) &&
    !(Array.isArray(layers) && layers.every(isNonNegativeInteger))
  ) {
    throw bad('layers_to_transform', 'a layer index or a list of them');
  }
  const usesLayers = layers !== undefined && !(Array.isArray(layers) && layers.length === 0);
  const layersPattern = raw.layers_pattern ?? undefined;
  const patternList = typeof layersPattern === 'string' ? [layersPattern] : layersPattern;
  if (
    patternList !== undefined &&
    !(Array.isArray(patternList) && patternList.every((p): p is string => typeof p === 'string'))
  ) {
    throw bad('layers_pattern', 'a string or a list of strings');
  }
  const hasPattern = patternList !== undefined && patternList.length > 0;
  if (usesLayers && targets.kind === 'regex') {
    throw new InputError(
      `adapter ${dir}: ${ADAPTER_CONFIG} sets layers_to_transform with a regex target_modules, which PEFT does not allow`,
    );
  }
  if (hasPattern && !usesLayers) {
    throw new InputError(`adapter ${dir}: ${ADAPTER_CONFIG} sets layers_pattern without layers_to_transform`);
  }
  const layerRegexes = hasPattern
    ? patternList.map((p) => compileRegex(`^.*\\.${p}\\.(\\d+)\\.`, p, 'layers_pattern', dir))
    : [DEFAULT_LAYER_PATTERN];

  const baseModel = raw.base_model_name_or_path;
  return {
    r,
    alpha,
    rslora: raw.use_rslora === true,
    targets,
    exclude,
    layers: usesLayers ? (layers as number | number[]) : undefined,
    layerRegexes,
    rankPattern: parsePattern(raw.rank_pattern, 'rank_pattern', dir, isPositiveInteger, bad),
    alphaPattern: parsePattern(raw.alpha_pattern, 'alpha_pattern', dir, isFiniteNumber, bad),
    ...(typeof baseModel === 'string' && baseModel !== '' ? { baseModel } : {}),
  };
}

const EMBEDDING_MODULES = [
  'lm_head',
  'embed_tokens',
  'model.embed_tokens',
  'language_model.lm_head',
  'language_model.model.embed_tokens',
  'model.language_model.embed_tokens',
];

function refuseEmbeddingTargets(targets: ModuleSelector, refuse: (what: string) => InputError): void {
  for (const name of EMBEDDING_MODULES) {
    const hit =
      targets.kind === 'regex'
        ? targets.re.test(name)
        : targets.names.some((t) => t === name || name.endsWith(`.${t}`));
    if (hit) {
      const what = name.endsWith('lm_head') ? 'lm_head' : 'the embeddings (embed_tokens)';
      throw refuse(`puts LoRA on ${what} (target_modules)`);
    }
  }
}
