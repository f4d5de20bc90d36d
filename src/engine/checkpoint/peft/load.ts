// PEFT LoRA adapter folders (`adapter_config.json` + `adapter_model.safetensors`) to LoraFactors.

import path from 'node:path';
import { entryExists } from '../regular-file';
import { openSafetensorsFile, readTensorsFloat32 } from '../safetensors';
import { InputError, type LoraAdapter, type LoraFactor, type TensorRef, type TensorSource } from '../types';
import { parsePeftConfig } from './config';
import { ADAPTER_WEIGHTS, readAdapterConfig } from './files';
import { planFactor } from './plan';
import { pairTensors } from './weights';

function tensorRef(source: TensorSource, name: string): TensorRef {
  const ref = source.get(name);
  if (!ref) throw new InputError(`${source.files[0]}: has no tensor named ${name}`);
  return ref;
}

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
  // All factors in one pass over the file (a few reads, not two opens per module).
  const values = await readTensorsFloat32(
    plans.flatMap(({ A, B }) => [tensorRef(source, A), tensorRef(source, B)]),
  );
  const factors: LoraFactor[] = plans.map(({ factor }, i) => ({
    ...factor,
    A: values[2 * i],
    B: values[2 * i + 1],
  }));
  return {
    source: abs,
    ...(config.baseModel !== undefined ? { baseModel: config.baseModel } : {}),
    factors,
  };
}
