// PEFT LoRA adapter folders (`adapter_config.json` + `adapter_model.safetensors`) to LoraFactors.
// Anything the adapter does beyond plain LoRA on the seven linear modules is refused, never dropped.

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeFsError, openSafetensorsFile, quoteName } from './safetensors';
import {
  InputError,
  isLinearModule,
  LINEAR_MODULES,
  type LinearModule,
  type LoraAdapter,
  type LoraFactor,
  type TensorRef,
  type TensorSource,
} from './types';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** Which module names an adapter targets, as PEFT's `check_target_module_exists` decides. */
type ModuleSelector =
  | { readonly kind: 'names'; readonly names: readonly string[] }
  | { readonly kind: 'regex'; readonly re: RegExp };

interface PeftLoraConfig {
  readonly r: number;
  readonly alpha: number;
  readonly rslora: boolean;
  readonly targets: ModuleSelector;
  readonly exclude?: ModuleSelector;
  readonly layers?: number | readonly number[];
  readonly layerRegexes: readonly RegExp[];
  readonly rankPattern: readonly (readonly [RegExp, string, number])[];
  readonly alphaPattern: readonly (readonly [RegExp, string, number])[];
  readonly baseModel?: string;
}

export async function loadPeftAdapter(dir: string): Promise<LoraAdapter> {
  const abs = path.resolve(dir);
  const config = parsePeftConfig(await readAdapterConfig(abs), abs);
  const weights = path.join(abs, ADAPTER_WEIGHTS);
  if (!(await isFile(weights))) {
    if (await isFile(path.join(abs, 'adapter_model.bin'))) {
      throw new InputError(
        `adapter ${abs} stores its weights in adapter_model.bin, a pickle, which dit-auditor does not load; ` +
          `save it as safetensors (${ADAPTER_WEIGHTS})`,
      );
    }
    throw new InputError(`adapter ${abs} has no ${ADAPTER_WEIGHTS}`);
  }
  const source = await openSafetensorsFile(weights);
  const pairs = pairTensors(source, abs);
  // Check every pair before reading any weights.
  const plans = pairs.map((pair) => planFactor(pair, config, abs));
  const factors: LoraFactor[] = [];
  for (const { factor, A, B } of plans) {
    factors.push({ ...factor, A: await source.readFloat32(A), B: await source.readFloat32(B) });
  }
  return {
    source: abs,
    ...(config.baseModel !== undefined ? { baseModel: config.baseModel } : {}),
    factors,
  };
}

async function readAdapterConfig(dir: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, ADAPTER_CONFIG);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const folder = await stat(dir).catch(() => undefined);
      if (!folder?.isDirectory()) throw new InputError(`adapter ${dir}: no such folder`);
      throw new InputError(`adapter ${dir} has no ${ADAPTER_CONFIG}; is it a PEFT adapter folder?`);
    }
    throw new InputError(`${file}: ${describeFsError(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(`${file}: not valid JSON`);
  }
  if (!isPlainObject(value)) throw new InputError(`${file}: not a JSON object`);
  return value;
}

// ---- adapter_config.json -------------------------------------------------------------------

function parsePeftConfig(raw: Record<string, unknown>, dir: string): PeftLoraConfig {
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
    : [/^.*\.[^.]*\.(\d+)\./];

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

function parseSelector(
  value: unknown,
  field: string,
  dir: string,
  bad: (field: string, want: string) => InputError,
): ModuleSelector | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'all-linear') return { kind: 'names', names: LINEAR_MODULES };
  if (typeof value === 'string')
    return { kind: 'regex', re: compileRegex(`^(?:${value})$`, value, field, dir) };
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) {
    return { kind: 'names', names: value };
  }
  throw bad(field, 'a list of module names or a regex string');
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

function parsePattern(
  value: unknown,
  field: string,
  dir: string,
  valid: (v: unknown) => v is number,
  bad: (field: string, want: string) => InputError,
): (readonly [RegExp, string, number])[] {
  if (value === undefined || value === null) return [];
  if (!isPlainObject(value)) throw bad(field, 'an object');
  return Object.entries(value).map(([key, v]) => {
    if (!valid(v)) throw bad(`${field}[${quoteName(key)}]`, 'a valid number');
    return [compileRegex(`^(?:.*\\.)?(?:${key})$`, key, field, dir), key, v] as const;
  });
}

/**
 * Compiles a regex taken from an adapter config. Module names are short, but a hostile pattern
 * with nested or many unbounded quantifiers could still backtrack for hours, so those are refused.
 */
function compileRegex(source: string, shown: string, field: string, dir: string): RegExp {
  const where = `adapter ${dir}: ${ADAPTER_CONFIG} field ${field} has the pattern ${quoteName(shown)}`;
  const nestedQuantifier = /\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]/;
  const unbounded = shown.match(/[*+]|\{\d+,\}/g)?.length ?? 0;
  if (shown.length > 1000 || nestedQuantifier.test(shown) || unbounded > 6) {
    throw new InputError(`${where}, which is too complex to match safely`);
  }
  try {
    return new RegExp(source);
  } catch {
    throw new InputError(`${where}, which is not a valid regular expression`);
  }
}

// ---- which modules are adapted (PEFT's check_target_module_exists) ----------------------------

function isTargeted(config: PeftLoraConfig, moduleName: string): boolean {
  if (config.exclude && selects(config.exclude, moduleName)) return false;
  const { targets } = config;
  if (targets.kind === 'regex') return targets.re.test(moduleName);
  if (targets.names.includes(moduleName)) return true;
  if (!targets.names.some((t) => moduleName.endsWith(`.${t}`))) return false;
  if (config.layers === undefined) return true;
  let layer: number | undefined;
  for (const re of config.layerRegexes) {
    const match = re.exec(moduleName);
    if (match) {
      layer = Number(match[1]);
      break;
    }
  }
  if (layer === undefined) return false;
  return typeof config.layers === 'number' ? layer === config.layers : config.layers.includes(layer);
}

function selects(selector: ModuleSelector, moduleName: string): boolean {
  if (selector.kind === 'regex') return selector.re.test(moduleName);
  return selector.names.some((n) => n === moduleName || moduleName.endsWith(`.${n}`));
}

function patternValue(pattern: PeftLoraConfig['rankPattern'], moduleName: string): number | undefined {
  for (const [re, key, value] of pattern) {
    if (moduleName === key || moduleName.endsWith(`.${key}`) || re.test(moduleName)) return value;
  }
  return undefined;
}

// ---- adapter_model.safetensors --------------------------------------------------------------

interface LoraPair {
  readonly layer: number;
  readonly module: LinearModule;
  /** The module's name in the base model, as PEFT matches it: `model.layers.0.self_attn.q_proj`. */
  readonly moduleName: string;
  A?: TensorRef;
  B?: TensorRef;
}

// base_model.model. + one of the decoder-layer prefixes (plain, and Gemma3's two multimodal
// layouts) + self_attn.{q,k,v,o}_proj | mlp.{gate,up,down}_proj + lora_A|lora_B [.default] .weight
const LORA_KEY =
  /^base_model\.model\.((?:model\.layers|language_model\.model\.layers|model\.language_model\.layers)\.(\d{1,6})\.(?:self_attn\.(q_proj|k_proj|v_proj|o_proj)|mlp\.(gate_proj|up_proj|down_proj)))\.lora_(A|B)(?:\.default)?\.weight$/;

function pairTensors(source: TensorSource, dir: string): LoraPair[] {
  const pairs = new Map<string, LoraPair>();
  for (const key of source.names()) {
    const match = LORA_KEY.exec(key);
    if (!match) throw unrecognisedKey(key, dir);
    const [, moduleName, layerText, attn, mlp, side] = match;
    const module = attn ?? mlp;
    if (!isLinearModule(module)) throw unrecognisedKey(key, dir);
    const layer = Number(layerText);
    const id = `${layer}/${module}`;
    let pair = pairs.get(id);
    if (!pair) {
      pair = { layer, module, moduleName };
      pairs.set(id, pair);
    }
    const ref = source.get(key);
    if (side === 'A' ? pair.A : pair.B) {
      throw new InputError(`adapter ${dir} has two lora_${side} tensors for layer ${layer} ${module}`);
    }
    if (side === 'A') pair.A = ref;
    else pair.B = ref;
  }
  if (pairs.size === 0) throw new InputError(`adapter ${dir} holds no LoRA weights`);
  return [...pairs.values()].sort(
    (a, b) => a.layer - b.layer || LINEAR_MODULES.indexOf(a.module) - LINEAR_MODULES.indexOf(b.module),
  );
}

function unrecognisedKey(key: string, dir: string): InputError {
  const refuse = (what: string) =>
    new InputError(`adapter ${dir} ${what} (tensor ${quoteName(key)}), which dit-auditor does not support`);
  if (/lora_magnitude_vector/.test(key)) return refuse('uses DoRA');
  if (/lora_embedding_[AB]/.test(key)) return refuse('puts LoRA on the embeddings');
  if (/(^|\.)lm_head(\.|$)/.test(key)) return refuse('puts LoRA on lm_head');
  if (/(^|\.)embed_tokens(\.|$)/.test(key)) return refuse('puts LoRA on the embeddings (embed_tokens)');
  if (/\.lora_[AB](\.[^.]+)?\.bias$/.test(key)) return refuse('has LoRA biases');
  if (/\.bias$/.test(key)) return refuse('trains biases');
  return new InputError(
    `adapter ${dir} has tensor ${quoteName(key)}, which is not the LoRA A or B of ` +
      `${LINEAR_MODULES.join('/')} in a decoder layer; dit-auditor does not support it`,
  );
}

interface FactorPlan {
  readonly factor: Omit<LoraFactor, 'A' | 'B'>;
  /** Tensor names of lora_A and lora_B. */
  readonly A: string;
  readonly B: string;
}

function planFactor(pair: LoraPair, config: PeftLoraConfig, dir: string): FactorPlan {
  if (!isTargeted(config, pair.moduleName)) {
    throw new InputError(
      `adapter ${dir} has weights for ${pair.moduleName}, which its target_modules/layers_to_transform ` +
        'do not select (PEFT would ignore them)',
    );
  }
  const what = `layer ${pair.layer} ${pair.module}`;
  if (!pair.A || !pair.B) {
    const [has, lacks] = pair.A ? ['lora_A', 'lora_B'] : ['lora_B', 'lora_A'];
    throw new InputError(`adapter ${dir} has ${has} but no ${lacks} for ${what}`);
  }
  const { A, B } = pair;
  if (A.shape.length !== 2 || B.shape.length !== 2 || [...A.shape, ...B.shape].some((d) => d === 0)) {
    throw new InputError(
      `adapter ${dir}: ${what} has lora_A of shape [${A.shape}] and lora_B of shape [${B.shape}]; ` +
        'both must be non-empty matrices',
    );
  }
  const [rank, inFeatures] = A.shape;
  const [outFeatures, rankB] = B.shape;
  if (rank !== rankB) {
    throw new InputError(`adapter ${dir}: ${what} has lora_A of rank ${rank} but lora_B of rank ${rankB}`);
  }
  const r = patternValue(config.rankPattern, pair.moduleName) ?? config.r;
  const alpha = patternValue(config.alphaPattern, pair.moduleName) ?? config.alpha;
  const scale = config.rslora ? alpha / Math.sqrt(r) : alpha / r;
  return {
    factor: { layer: pair.layer, module: pair.module, rank, inFeatures, outFeatures, scale },
    A: A.name,
    B: B.name,
  };
}

// ---- small helpers --------------------------------------------------------------------------

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
