// One lora_A / lora_B pair checked against the config and each other, before any weights are read.

import { InputError, type LoraFactor } from '../types';
import type { PeftLoraConfig } from './config';
import { isTargeted, patternValue } from './matching';
import type { LoraPair } from './weights';

export interface FactorPlan {
  readonly factor: Omit<LoraFactor, 'A' | 'B'>;
  /** Tensor names of lora_A and lora_B. */
  readonly A: string;
  readonly B: string;
}

export function planFactor(pair: LoraPair, config: PeftLoraConfig, dir: string): FactorPlan {
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
  const patterned = patternValue(config.rankPattern, pair.moduleName);
  const r = patterned ?? config.r;
  if (r !== rank) {
    // PEFT builds lora_A as [r, in] and would refuse to load these weights into it.
    throw new InputError(
      `adapter ${dir}: ${what} has weights of rank ${rank}, but ${patterned === undefined ? 'r' : 'rank_pattern'} ` +
        `in its config says ${r} (PEFT would refuse to load them)`,
    );
  }
  const alpha = patternValue(config.alphaPattern, pair.moduleName) ?? config.alpha;
  const scale = config.rslora ? alpha / Math.sqrt(r) : alpha / r;
  return {
    factor: { layer: pair.layer, module: pair.module, rank, inFeatures, outFeatures, scale },
    A: A.name,
    B: B.name,
  };
}
