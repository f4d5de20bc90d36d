// What a path is as a checkpoint, and which files make it up: decided here once, from the file
// system alone, for every layer (the explorer's menus, the audit, the engine's loader).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { INDEX_FILE, openCheckpointTensors } from './checkpoint-files';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './peft/files';
import { InputError } from './types';

/** torch.save files (pickles): read by the engine's own unpickler, which never runs one. */
export const TORCH_EXTENSIONS = ['.pt', '.pth', '.bin', '.ckpt'] as const;
/** The files the explorer offers an audit for; package.json's `when` clauses say the same (a test checks). */
export const CHECKPOINT_FILE_EXTENSIONS = ['.safetensors', ...TORCH_EXTENSIONS] as const;
/** Files beside a model's weights that change what it says: its tokenizer and chat template. */
const TEXT_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'chat_template.jinja',
  'generation_config.json',
];

export const CHECKPOINT_KINDS = ['peft-adapter', 'model-folder', 'torch-file'] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

/** A checkpoint by kind: `path` is the folder of a PEFT adapter or a model, else the torch file. */
export interface Checkpoint {
  readonly kind: CheckpointKind;
  readonly path: string;
}

export function isTorchFile(path: string): boolean {
  return (TORCH_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());
}

/** A PEFT adapter folder (`adapter_config.json`), a model folder (`config.json` and safetensors weights), or neither. */
export function folderKind(dir: string): Exclude<CheckpointKind, 'torch-file'> | undefined {
  const names = namesIn(dir);
  if (names?.includes(ADAPTER_CONFIG)) return 'peft-adapter';
  return names !== undefined && modelFolderProblem(dir, names) === undefined ? 'model-folder' : undefined;
}

/** Throws unless `dir` is a model folder, saying what it lacks; `what` names it in the message. */
export function requireModelFolder(dir: string, what = dir): void {
  const names = namesIn(dir);
  const problem = names === undefined ? 'it is not a readable folder' : modelFolderProblem(dir, names);
  if (problem !== undefined) throw new InputError(`${what} is not a model folder: ${problem}`);
}

export function isModelFolder(dir: string): boolean {
  return folderKind(dir) === 'model-folder';
}

function namesIn(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch {
    return undefined;
  }
}

function modelFolderProblem(dir: string, names: readonly string[]): string | undefined {
  if (!names.includes('config.json')) return 'it has no config.json';
  if (names.some((n) => n.endsWith('.safetensors') || n === INDEX_FILE)) return undefined;
  const pickle = names.find((n) => isTorchFile(join(dir, n)));
  return `it has no safetensors weights${pickle ? ` (${pickle} is a pickle, which dit-auditor does not load as a model)` : ''}`;
}

/** What `path` is, or an InputError saying why it is no checkpoint. A `.safetensors` stands for its folder. */
export function classifyCheckpoint(path: string): Checkpoint {
  const abs = resolve(path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(abs).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? String(e)})`,
    );
  }
  if (isDirectory) {
    const kind = folderKind(abs);
    if (kind) return { kind, path: abs };
    if (namesIn(abs)?.includes('config.json')) requireModelFolder(abs, path);
    throw new InputError(
      `${path} is neither a PEFT adapter folder (${ADAPTER_CONFIG}) nor a model folder (config.json and .safetensors weights)`,
    );
  }
  if (isTorchFile(abs)) return { kind: 'torch-file', path: abs };
  if (extname(abs).toLowerCase() === '.safetensors') {
    const dir = dirname(abs);
    const kind = folderKind(dir);
    if ((kind === 'peft-adapter' && basename(abs) === ADAPTER_WEIGHTS) || kind === 'model-folder')
      return { kind, path: dir };
    throw new InputError(
      `${path} has neither ${ADAPTER_CONFIG} nor config.json beside it, so what it holds (and its LoRA scale) is unknown`,
    );
  }
  throw new InputError(
    `${basename(path)} is not a checkpoint dit-auditor reads (a PEFT adapter folder, a model folder, or ${CHECKPOINT_FILE_EXTENSIONS.join(', ')})`,
  );
}

/** Every file whose bytes make up the checkpoint (what its identity hashes), in a fixed order. */
export async function checkpointFiles(checkpoint: Checkpoint): Promise<string[]> {
  const { kind, path } = checkpoint;
  if (kind === 'torch-file') return [path];
  if (kind === 'peft-adapter') {
    const files = [join(path, ADAPTER_CONFIG), join(path, ADAPTER_WEIGHTS)];
    const missing = files.find((f) => !existsSync(f));
    if (missing) throw new InputError(`adapter ${path} has no ${basename(missing)}`);
    return files;
  }
  const tensors = await openCheckpointTensors(path);
  const extra = [INDEX_FILE, ...TEXT_FILES].map((f) => join(path, f)).filter((f) => existsSync(f));
  return [join(path, 'config.json'), ...extra, ...tensors.files];
}
