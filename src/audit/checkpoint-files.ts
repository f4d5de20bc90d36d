// Which files make up a checkpoint, found the way the engine finds them, and what kind it is.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { INDEX_FILE, openCheckpointTensors } from '../engine/checkpoint/checkpoint-files';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../engine/checkpoint/peft';
import { InputError } from '../engine/checkpoint/types';

/** Files beside the weights that change what a model says: its tokenizer and chat template. */
const TEXT_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'chat_template.jinja',
  'generation_config.json',
];
export const TORCH_EXTENSIONS = ['.pt', '.pth', '.bin'];

export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

export function isModelFolder(dir: string): boolean {
  return isDirectory(dir) && existsSync(join(dir, 'config.json'));
}

export function isPeftFolder(dir: string): boolean {
  return isDirectory(dir) && existsSync(join(dir, ADAPTER_CONFIG));
}

export function isTorchFile(path: string): boolean {
  return TORCH_EXTENSIONS.some((ext) => path.endsWith(ext));
}

/** config.json, the weights (an index and its shards, or one file) and the tokenizer files present. */
export async function modelFolderFiles(dir: string): Promise<string[]> {
  if (!isModelFolder(dir)) throw new InputError(`${dir} is not a model folder (no config.json)`);
  const tensors = await openCheckpointTensors(dir);
  const extra = [INDEX_FILE, ...TEXT_FILES].map((f) => join(dir, f)).filter((f) => existsSync(f));
  return [join(dir, 'config.json'), ...extra, ...tensors.files];
}

export function peftFolderFiles(dir: string): string[] {
  const files = [join(dir, ADAPTER_CONFIG), join(dir, ADAPTER_WEIGHTS)];
  const missing = files.find((f) => !existsSync(f));
  if (missing) throw new InputError(`adapter ${dir} has no ${basename(missing)}`);
  return files;
}

/**
 * A `.safetensors` path stands for the folder it belongs to: a PEFT adapter's weights, or a
 * model folder's; a bare file has no config saying what it is.
 */
export function folderOfSafetensors(file: string): string {
  const dir = dirname(resolve(file));
  if (basename(file) === ADAPTER_WEIGHTS && isPeftFolder(dir)) return dir;
  if (isModelFolder(dir)) return dir;
  throw new InputError(
    `${file} has neither ${ADAPTER_CONFIG} nor config.json beside it, so what it holds (and its LoRA scale) is unknown`,
  );
}
