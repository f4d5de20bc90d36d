// What is being audited: its kind, identity (content hash) and how the engine loads it. An unsafe
// pickle is identified from its opcodes alone and goes no further.
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { type Checkpoint, checkpointFiles, classifyCheckpoint } from '../engine/checkpoint/classify';
import { ADAPTER_CONFIG } from '../engine/checkpoint/peft';
import { type CheckpointRef, formatCheckpointRef } from '../engine/checkpoint/reference';
import { openSafetensorsFile } from '../engine/checkpoint/safetensors';
import { describeTorchFile } from '../engine/checkpoint/torch-layouts';
import { InputError } from '../engine/checkpoint/types';
import { readJsonObject } from '../engine/text/tokenizer';
import type { FileHasher, HashProgress } from './hashing';
import type { CheckpointIdentity } from './report';

export interface Subject {
  readonly identity: CheckpointIdentity;
  /** The diff as the engine stacks it (a PEFT folder, one entry of a `.pt` list); absent for a full finetune. */
  readonly adapter?: CheckpointRef;
  /** The folder the engine opens for a full finetune. */
  readonly modelDir?: string;
  /** Globals outside the allowlist: the pickle would run code, so nothing is loaded. */
  readonly unsafeGlobals?: readonly string[];
}

type Located = Omit<Subject, 'identity'> & {
  readonly identity: Omit<CheckpointIdentity, 'sha256' | 'bytes'>;
  readonly root: string;
  readonly files: readonly string[];
};

export async function identifySubject(
  ref: CheckpointRef,
  hasher: FileHasher,
  onProgress?: HashProgress,
): Promise<Subject> {
  const located = await locate(ref);
  const { sha256, bytes } = await hasher.hashFiles(located.root, located.files, onProgress);
  const { root: _root, files: _files, ...subject } = located;
  return { ...subject, identity: { ...located.identity, sha256, bytes } };
}

/** What the path is; a lone `.safetensors` that is no checkpoint is first read, so a corrupt one says so. */
async function classifySubject(path: string): Promise<Checkpoint> {
  try {
    return classifyCheckpoint(path);
  } catch (error) {
    if (error instanceof InputError && extname(path).toLowerCase() === '.safetensors' && existsSync(path))
      await openSafetensorsFile(path); // throws what is wrong with the file, if anything is
    throw error;
  }
}

async function locate(ref: CheckpointRef): Promise<Located> {
  const checkpoint = await classifySubject(ref.path);
  if (checkpoint.kind === 'torch-file') return locateTorch(checkpoint.path, ref.entry);
  if (ref.entry !== undefined) {
    throw new InputError(`${formatCheckpointRef(ref)}: only a .pt list of weight diffs takes #INDEX`);
  }
  const dir = checkpoint.path;
  const isPeft = checkpoint.kind === 'peft-adapter';
  const config = (await readJsonObject(dir, isPeft ? ADAPTER_CONFIG : 'config.json')) ?? {};
  return {
    identity: {
      path: dir,
      kind: isPeft ? 'peft-adapter' : 'full-finetune',
      name: basename(dir),
      metadata: scalars(config, isPeft ? PEFT_FACTS : MODEL_FACTS),
    },
    ...(isPeft ? { adapter: { path: dir } } : { modelDir: dir }),
    root: dir,
    files: await checkpointFiles(checkpoint),
  };
}

async function locateTorch(path: string, entry: number | undefined): Promise<Located> {
  const described = await describeTorchFile(path);
  const common = { path, name: basename(path), ...(entry === undefined ? {} : { entry }) };
  if (described.forbiddenGlobals.length > 0) {
    return {
      identity: { ...common, kind: 'torch-weight-diff', metadata: {} },
      unsafeGlobals: described.forbiddenGlobals,
      root: path,
      files: [path],
    };
  }
  if (described.format === 'legacy') {
    throw new InputError(`${path} is a legacy (non-zip) torch.save file, which dit-auditor does not read`);
  }
  if (described.layout === 'dit-adapter') {
    throw new InputError(
      `${path} is a DIT-adapter (an interpreter), not a weight diff: pass it with --interpreter and audit a diff`,
    );
  }
  const entries = described.diffEntries;
  if (described.layout !== 'weight-diffs' || !entries || entries.length === 0) {
    throw new InputError(`${path} is not a list of weight diffs in the DIT paper's layout`);
  }
  if (entry === undefined && entries.length > 1) {
    throw new InputError(
      `${path} holds ${entries.length} weight diffs: audit one as ${path}#INDEX, INDEX from 0 to ${entries.length - 1}`,
    );
  }
  const index = entry ?? 0;
  const found = entries[index];
  if (!found) throw new InputError(`${path}#${index}: no such entry (#0 to #${entries.length - 1})`);
  const metadata: Record<string, string | number> = {};
  if (found.topic !== undefined) metadata.topic = found.topic;
  if (found.trigger !== undefined) metadata.trigger = found.trigger;
  return {
    identity: { ...common, entry: index, kind: 'torch-weight-diff', metadata },
    adapter: { path, entry: index },
    root: path,
    files: [path],
  };
}

const PEFT_FACTS = { base_model_name_or_path: 'base_model', r: 'rank', lora_alpha: 'lora_alpha' };
const MODEL_FACTS = { model_type: 'model_type', _name_or_path: 'name_or_path' };

function scalars(
  json: Record<string, unknown>,
  facts: Record<string, string>,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, as] of Object.entries(facts)) {
    const v = json[key];
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) out[as] = v;
  }
  return out;
}
