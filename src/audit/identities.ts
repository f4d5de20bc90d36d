// Identities of what an audit loads besides the subject: the base model and the interpreters.
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeTorchFile } from '../engine/checkpoint/torch-pt';
import { InputError } from '../engine/checkpoint/types';
import {
  folderOfSafetensors,
  isPeftFolder,
  isTorchFile,
  modelFolderFiles,
  peftFolderFiles,
} from './checkpoint-files';
import type { FileHasher, HashProgress } from './hashing';
import type { CheckpointIdentity, InterpreterIdentity, QuestionKind } from './report';

export interface InterpreterSpec {
  readonly path: string;
  readonly question: string;
  readonly questionKind: QuestionKind;
}

export async function identifyModel(
  dir: string,
  name: string,
  hasher: FileHasher,
  onProgress?: HashProgress,
): Promise<CheckpointIdentity> {
  const abs = resolve(dir);
  const files = await modelFolderFiles(abs);
  const { sha256, bytes } = await hasher.hashFiles(abs, files, onProgress);
  return { path: abs, kind: 'model', name, sha256, bytes, metadata: {} };
}

/** An interpreter is a PEFT adapter or the paper's `dit-adapter.pt`; an unsafe pickle is refused. */
export async function identifyInterpreter(
  spec: InterpreterSpec,
  hasher: FileHasher,
  onProgress?: HashProgress,
): Promise<InterpreterIdentity> {
  const abs = resolve(spec.path);
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(abs);
  } catch {
    throw new InputError(`interpreter ${spec.path} does not exist`);
  }
  const question = { question: spec.question, questionKind: spec.questionKind, metadata: {} };
  if (stats.isFile() && isTorchFile(abs)) {
    const described = await describeTorchFile(abs);
    if (described.forbiddenGlobals.length > 0) {
      throw new InputError(
        `interpreter ${abs} is unsafe: its pickle needs ${described.forbiddenGlobals.join(', ')}, which would run code`,
      );
    }
    if (described.layout !== 'dit-adapter') {
      throw new InputError(`interpreter ${abs} is not a DIT-adapter (the paper's dit-adapter.pt layout)`);
    }
    const { sha256, bytes } = await hasher.hashFiles(abs, [abs], onProgress);
    // `dit-adapter.pt` says little alone; its folder names the model (`qwen3-8b/dit-adapter.pt`).
    const name = join(basename(dirname(abs)), basename(abs));
    return { path: abs, kind: 'torch-dit-adapter', name, sha256, bytes, ...question };
  }
  const dir = stats.isFile() && abs.endsWith('.safetensors') ? folderOfSafetensors(abs) : abs;
  if (!isPeftFolder(dir)) {
    throw new InputError(`interpreter ${spec.path} is neither a PEFT adapter folder nor a dit-adapter.pt`);
  }
  const { sha256, bytes } = await hasher.hashFiles(dir, peftFolderFiles(dir), onProgress);
  return { path: dir, kind: 'peft-adapter', name: basename(dir), sha256, bytes, ...question };
}
