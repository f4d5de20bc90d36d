// Reads a model folder (config.json + safetensors) into options, tensors and a built graph.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openCheckpointTensors } from '../checkpoint/checkpoint-files';
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
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    throw new InputError(`${dir} has no config.json, so it is not a model folder`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${configPath} is not valid JSON (${(e as Error).message})`);
  }
  const tensors = await openCheckpointTensors(dir);
  const options = normalizeConfig(raw, (name) => tensors.get(name) !== undefined);
  checkSizesAgainstWeights(options, (name) => tensors.get(name));
  return { dir, options, tensors };
}
