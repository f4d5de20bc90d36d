// What a file or folder holds, read without running anything: for `dit-audit inspect`.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpointTensors } from './checkpoint/checkpoint-files';
import { folderKind } from './checkpoint/classify';
import { readJsonFile } from './checkpoint/json-file';
import { linksLeavingFolder, type OutsideLink } from './checkpoint/outside-links';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './checkpoint/peft';
import { openSafetensorsFile } from './checkpoint/safetensors';
import { describeTorchFile, type TorchDiffEntry } from './checkpoint/torch-layouts';
import { InputError, type TensorSource } from './checkpoint/types';

export interface TensorSummary {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

export type Inspection =
  | {
      kind: 'model';
      path: string;
      modelType: unknown;
      files: string[];
      /** Weight files that are symlinks out of the folder (an HF cache's blobs excepted). */
      outsideLinks?: OutsideLink[];
      tensors: TensorSummary[];
    }
  | {
      kind: 'peft-adapter';
      path: string;
      config: Record<string, unknown>;
      outsideLinks?: OutsideLink[];
      tensors: TensorSummary[];
    }
  | { kind: 'safetensors'; path: string; metadata: Record<string, string>; tensors: TensorSummary[] }
  | {
      kind: 'torch';
      path: string;
      format: 'zip' | 'legacy';
      layout?: string;
      globals: string[];
      diffEntries?: TorchDiffEntry[];
      tensors: TensorSummary[];
    };

export async function inspectPath(path: string): Promise<Inspection> {
  if (!existsSync(path)) throw new InputError(`${path} does not exist`);
  if (statSync(path).isDirectory()) return inspectFolder(path);
  if (path.endsWith('.safetensors')) {
    const file = await openSafetensorsFile(path);
    return { kind: 'safetensors', path, metadata: { ...file.metadata }, tensors: summarize(file) };
  }
  const torch = await describeTorchFile(path);
  if (torch.forbiddenGlobals.length > 0) {
    throw new InputError(
      `${path} is unsafe: its pickle needs ${torch.forbiddenGlobals.join(', ')}, which would run code`,
    );
  }
  return {
    kind: 'torch',
    path,
    format: torch.format,
    layout: torch.layout,
    globals: [...torch.globals],
    diffEntries: torch.diffEntries ? [...torch.diffEntries] : undefined,
    tensors: torch.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] })),
  };
}

async function inspectFolder(dir: string): Promise<Inspection> {
  if (folderKind(dir) === 'peft-adapter') {
    const config = await readJson(join(dir, ADAPTER_CONFIG));
    const file = await openSafetensorsFile(join(dir, ADAPTER_WEIGHTS));
    const links = linksLeavingFolder(dir, [join(dir, ADAPTER_CONFIG), join(dir, ADAPTER_WEIGHTS)]);
    return {
      kind: 'peft-adapter',
      path: dir,
      config,
      ...(links.length > 0 ? { outsideLinks: links } : {}),
      tensors: summarize(file),
    };
  }
  const config = existsSync(join(dir, 'config.json')) ? await readJson(join(dir, 'config.json')) : {};
  const tensors = await openCheckpointTensors(dir);
  const links = linksLeavingFolder(dir, tensors.files);
  return {
    kind: 'model',
    path: dir,
    modelType: config.model_type,
    files: [...tensors.files],
    ...(links.length > 0 ? { outsideLinks: links } : {}),
    tensors: summarize(tensors),
  };
}

function summarize(source: TensorSource): TensorSummary[] {
  return source
    .names()
    .map((name) => source.get(name))
    .filter((ref) => ref !== undefined)
    .map((ref) => ({ name: ref.name, dtype: ref.dtype, shape: [...ref.shape] }));
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const value = await readJsonFile(path);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InputError(`${path} is not a JSON object`);
  return value as Record<string, unknown>;
}
