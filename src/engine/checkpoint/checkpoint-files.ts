// Finds the safetensors weights of a checkpoint folder: a sharded set with its index, or one file.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readJsonFile } from './json-file';
import { describeFsError, entryExists } from './regular-file';
import { openSafetensorsFile, quoteName, readTensorFloat32 } from './safetensors';
import { InputError, type TensorRef, type TensorSource } from './types';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

/** Opens one `.safetensors` file as a tensor source. */
export function openTensorFile(file: string): Promise<TensorSource> {
  return openSafetensorsFile(file);
}

/**
 * Opens the weights of a Hugging Face checkpoint folder: `model.safetensors.index.json` and its
 * shards, else `model.safetensors`, else the folder's only `*.safetensors` file.
 */
export async function openCheckpointTensors(dir: string): Promise<TensorSource> {
  const abs = path.resolve(dir);
  const names = await listFolder(abs);
  if (entryExists(path.join(abs, INDEX_FILE))) return openSharded(abs);
  if (entryExists(path.join(abs, SINGLE_FILE))) return openSafetensorsFile(path.join(abs, SINGLE_FILE));
  const candidates = names.filter((n) => n.endsWith('.safetensors')).sort();
  if (candidates.length === 1) return openSafetensorsFile(path.join(abs, candidates[0]));
  if (candidates.length > 1) {
    throw new InputError(
      `${abs} holds several .safetensors files (${candidates.map(showName).join(', ')}) but no ${INDEX_FILE} saying how they fit together`,
    );
  }
  const pickle = names.find((n) => n === 'pytorch_model.bin' || n === 'pytorch_model.bin.index.json');
  const hint = pickle
    ? ` (${pickle} is a pickle, which dit-auditor does not load; safetensors is needed)`
    : '';
  throw new InputError(`no safetensors weights were found in ${abs}${hint}`);
}

async function openSharded(dir: string): Promise<TensorSource> {
  const indexPath = path.join(dir, INDEX_FILE);
  const weightMap = await readWeightMap(indexPath);
  const shardNames = [...new Set(weightMap.values())];
  for (const shard of shardNames) {
    const shardPath = path.resolve(dir, shard);
    const relative = path.relative(dir, shardPath);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new InputError(`${indexPath}: shard ${quoteName(shard)} is not a file inside ${dir}`);
    }
    if (!entryExists(shardPath)) {
      throw new InputError(`${dir}: shard ${showName(shard)} listed in ${INDEX_FILE} is missing`);
    }
  }
  const shards = new Map<string, TensorSource>();
  for (const shard of shardNames) shards.set(shard, await openSafetensorsFile(path.resolve(dir, shard)));

  const refs = new Map<string, TensorRef>();
  for (const [tensor, shard] of weightMap) {
    const ref = shards.get(shard)?.get(tensor);
    if (!ref) {
      throw new InputError(
        `${dir}: ${INDEX_FILE} maps tensor ${quoteName(tensor)} to ${showName(shard)}, which does not contain it`,
      );
    }
    refs.set(tensor, ref);
  }
  // Tensors a shard holds but the index does not list are still loaded (as transformers does),
  // unless two shards hold them and nothing says which one wins.
  const unlisted = new Map<string, string>();
  for (const [shard, source] of shards) {
    for (const tensor of source.names()) {
      if (weightMap.has(tensor)) continue;
      const other = unlisted.get(tensor);
      if (other !== undefined) {
        throw new InputError(
          `${dir}: tensor ${quoteName(tensor)} is in both ${showName(other)} and ${showName(shard)}, and ${INDEX_FILE} does not say which to use`,
        );
      }
      unlisted.set(tensor, shard);
      const ref = source.get(tensor);
      if (ref) refs.set(tensor, ref);
    }
  }
  return sourceOf(
    shardNames.map((s) => path.resolve(dir, s)),
    refs,
    dir,
  );
}

async function readWeightMap(indexPath: string): Promise<Map<string, string>> {
  const index = await readJsonFile(indexPath);
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new InputError(`${indexPath}: has no weight_map object`);
  }
  const entries = Object.entries(weightMap);
  if (entries.length === 0) throw new InputError(`${indexPath}: weight_map lists no tensors`);
  const map = new Map<string, string>();
  for (const [tensor, shard] of entries) {
    if (typeof shard !== 'string' || shard === '') {
      throw new InputError(`${indexPath}: weight_map entry ${quoteName(tensor)} is not a file name`);
    }
    map.set(tensor, shard);
  }
  return map;
}

function sourceOf(
  files: readonly string[],
  refs: ReadonlyMap<string, TensorRef>,
  where: string,
): TensorSource {
  return {
    files,
    get: (name) => refs.get(name),
    names: () => [...refs.keys()],
    readFloat32: async (name) => {
      const ref = refs.get(name);
      if (!ref) throw new InputError(`${where}: has no tensor named ${quoteName(name)}`);
      return readTensorFloat32(ref);
    },
  };
}

async function listFolder(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${dir}: no such folder`);
    if (code === 'ENOTDIR') throw new InputError(`${dir}: is a file, not a checkpoint folder`);
    throw new InputError(`${dir}: ${describeFsError(error)}`);
  }
}

/** A file name as it is when plain, quoted when it holds anything odd. */
function showName(name: string): string {
  return /^[\w.+-]{1,200}$/.test(name) ? name : quoteName(name);
}
