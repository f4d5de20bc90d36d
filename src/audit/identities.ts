// Identities of what an audit loads besides the subject: the base model and the interpreters.
import { basename, dirname, join, resolve } from 'node:path';
import { type Checkpoint, checkpointFiles, classifyCheckpoint } from '../engine/checkpoint/classify';
import { describeTorchFile } from '../engine/checkpoint/torch-layouts';
import { InputError } from '../engine/checkpoint/types';
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
  const files = await checkpointFiles({ kind: 'model-folder', path: abs });
  const { sha256, bytes } = await hasher.hashFiles(abs, files, onProgress);
  return { path: abs, kind: 'model', name, sha256, bytes, metadata: {} };
}

/** An interpreter is a PEFT adapter or the paper's `dit-adapter.pt`; an unsafe pickle is refused. */
export async function identifyInterpreter(
  spec: InterpreterSpec,
  hasher: FileHasher,
  onProgress?: HashProgress,
): Promise<InterpreterIdentity> {
  const checkpoint = classifyInterpreter(spec.path);
  const abs = checkpoint.path;
  const question = { question: spec.question, questionKind: spec.questionKind, metadata: {} };
  if (checkpoint.kind === 'torch-file') {
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
  if (checkpoint.kind !== 'peft-adapter') {
    throw new InputError(
      `interpreter ${spec.path} is a model folder, not a PEFT adapter folder or a dit-adapter.pt`,
    );
  }
  const { sha256, bytes } = await hasher.hashFiles(abs, await checkpointFiles(checkpoint), onProgress);
  return { path: abs, kind: 'peft-adapter', name: basename(abs), sha256, bytes, ...question };
}

function classifyInterpreter(path: string): Checkpoint {
  try {
    return classifyCheckpoint(path);
  } catch (e) {
    throw e instanceof InputError ? new InputError(`interpreter ${e.message}`) : e;
  }
}
