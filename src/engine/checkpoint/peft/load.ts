// PEFT LoRA adapter folders (`adapter_config.json` + `adapter_model.safetensors`) to LoraFactors.

import path from 'node:path';
import { entryExists } from '../regular-file';
import { openSafetensorsFile } from '../safetensors';
import { InputError, type LoraAdapter, type LoraFactor } from '../types';
import { parsePeftConfig } from './config';
import { ADAPTER_WEIGHTS, readAdapterConfig } from './files';
import { planFactor } from './plan';
import { pairTensors } from './weights';

export async function loadPeftAdapter(dir: string): Promise<LoraAdapter> {
  const abs = path.resolve(dir);
  const config = parsePeftConfig(await readAdapterConfig(abs), abs);
  const weights = path.join(abs, ADAPTER_WEIGHTS);
  if (!entryExists(weights)) {
    if (entryExists(path.join(abs, 'adapter_model.bin'))) {
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
