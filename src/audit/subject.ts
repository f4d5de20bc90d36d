// What is being audited: its kind, identity (content hash) and how the engine loads it. An unsafe
// pickle is identified from its opcodes alone and goes no further.
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { describeTorchFile } from '../engine/checkpoint/torch-pt';
import { InputError } from '../engine/checkpoint/types';
import { readJsonObject } from '../engine/text/tokenizer';
import {
  folderOfSafetensors,
  isModelFolder,
  isPeftFolder,
  isTorchFile,
  modelFolderFiles,
  peftFolderFiles,
} from './checkpoint-files';
import type { FileHasher, HashProgress } from './hashing';
import type { CheckpointIdentity } from './report';

export interface Subject {
  readonly identity: CheckpointIdentity;
  /** What setAdapters takes for a diff (a PEFT folder, `FILE#INDEX`); absent for a full finetune. */
  readonly adapterSpec?: string;
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

/** `PATH`, or `FILE#INDEX` for one entry of a `.pt` list of weight diffs. */
export function splitEntry(spec: string): { path: string; entry?: number } {
  if (existsSync(spec)) return { path: resolve(spec) };
  const m = /^(.+)#(\d{1,9})$/.exec(spec);
  if (m && existsSync(m[1])) return { path: resolve(m[1]), entry: Number(m[2]) };
  throw new InputError(`${spec} does not exist`);
}

export async function identifySubject(
  spec: string,
  hasher: FileHasher,
  onProgress?: HashProgress,
): Promise<Subject> {
  const located = await locate(spec);
  const { sha256, bytes } = await hasher.hashFiles(located.root, located.files, onProgress);
  const { root: _root, files: _files, ...subject } = located;
  return { ...subject, identity: { ...located.identity, sha256, bytes } };
}

async function locate(spec: string): Promise<Located> {
  const { path, entry } = splitEntry(spec);
  const isFile = statSync(path).isFile();
  if (entry !== undefined && !(isFile && isTorchFile(path))) {
    throw new InputError(`${spec}: only a .pt list of weight diffs takes #INDEX`);
  }
  if (isFile && isTorchFile(path)) return locateTorch(path, entry);
  const dir = isFile ? (path.endsWith('.safetensors') ? folderOfSafetensors(path) : undefined) : path;
  if (dir === undefined) {
    throw new InputError(
      `${path} is not a checkpoint dit-auditor reads (a folder, .safetensors, .pt, .pth or .bin)`,
    );
  }
  if (isPeftFolder(dir)) {
    const config = (await readJsonObject(dir, 'adapter_config.json')) ?? {};
    return {
      identity: {
        path: dir,
        kind: 'peft-adapter',
        name: basename(dir),
        metadata: scalars(config, PEFT_FACTS),
      },
      adapterSpec: dir,
      root: dir,
      files: peftFolderFiles(dir),
    };
  }
  if (isModelFolder(dir)) {
    const config = (await readJsonObject(dir, 'config.json')) ?? {};
    return {
      identity: {
        path: dir,
        kind: 'full-finetune',
        name: basename(dir),
        metadata: scalars(config, MODEL_FACTS),
      },
      modelDir: dir,
      root: dir,
      files: await modelFolderFiles(dir),
    };
  }
  throw new InputError(
    `${dir} holds neither adapter_config.json (a PEFT adapter) nor config.json (a model): nothing to audit`,
  );
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
    adapterSpec: `${path}#${index}`,
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
