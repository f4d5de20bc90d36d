// Reads a model folder (config.json + safetensors) into options, tensors and a built graph.
import { join } from 'node:path';
import { openCheckpointTensors } from '../checkpoint/checkpoint-files';
import { readJsonFile } from '../checkpoint/json-file';
import { entryExists } from '../checkpoint/regular-file';
import { InputError, type TensorSource } from '../checkpoint/types';
import { checkSizesAgainstWeights } from '../config/check-weights';
import type { ModelOptions } from '../config/model-options';
import { normalizeConfig } from '../config/normalize-config';

export interface LoadedCheckpoint {
  readonly dir: string;
  readonly options: ModelOptions;
  readonly tensors: TensorSource;
}

export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const configPath = join(dir, 'config.json');
  if (!entryExists(configPath))
    throw new InputError(`${dir} has no config.json, so it is not a model folder`);
  const raw = await readJsonFile(configPath);
  const tensors = await openCheckpointTensors(dir);
  const options = normalizeConfig(raw, (name) => tensors.get(name) !== undefined);
  checkSizesAgainstWeights(options, (name) => tensors.get(name));
  return { dir, options, tensors };
}
