// The adapter folder on disk: its file names, and reading adapter_config.json as a JSON object.

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeFsError } from '../safetensors';
import { InputError } from '../types';
import { isPlainObject } from './guards';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

export async function readAdapterConfig(dir: string): Promise<Record<string, unknown>> {
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

export async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
