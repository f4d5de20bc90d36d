// The adapter folder on disk: its file names, and reading adapter_config.json as a JSON object.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { readJsonFile } from '../json-file';
import { entryExists } from '../regular-file';
import { InputError } from '../types';
import { isPlainObject } from './guards';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

export async function readAdapterConfig(dir: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, ADAPTER_CONFIG);
  if (!entryExists(file)) {
    const folder = await stat(dir).catch(() => undefined);
    if (!folder?.isDirectory()) throw new InputError(`adapter ${dir}: no such folder`);
    throw new InputError(`adapter ${dir} has no ${ADAPTER_CONFIG}; is it a PEFT adapter folder?`);
  }
  const value = await readJsonFile(file);
  if (!isPlainObject(value)) throw new InputError(`${file}: not a JSON object`);
  return value;
}
