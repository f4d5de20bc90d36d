// From the string a file names to a checkpoint on this machine: a path (relative to the file, then
// to each workspace folder; `~` is the home folder; `FILE#INDEX` names one diff of a `.pt` list)
// or a Hugging Face repo id found in the local hub cache. Anything else is no reference.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { type Checkpoint, classifyCheckpoint } from '../../engine/checkpoint/classify';
import { type CheckpointRef, parseCheckpointRef } from '../../engine/checkpoint/reference';
import { findInHfCache, isRepoId } from '../hf-cache';

export interface ResolveContext {
  /** The folder of the file that holds the reference. */
  readonly fileDir: string;
  /** Workspace folders: scripts are often run from a repository's root. */
  readonly roots: readonly string[];
  readonly hfCacheDirs: readonly string[];
}

export interface ResolvedReference {
  readonly ref: CheckpointRef;
  readonly checkpoint: Checkpoint;
  readonly from: 'path' | 'hf-cache';
}

export function resolveReference(text: string, context: ResolveContext): ResolvedReference | undefined {
  const written = text.trim();
  const expanded = written === '~' || written.startsWith('~/') ? join(homedir(), written.slice(1)) : written;
  const candidates = isAbsolute(expanded)
    ? [expanded]
    : [context.fileDir, ...context.roots].map((dir) => join(dir, expanded));
  for (const candidate of new Set(candidates)) {
    const found = asCheckpoint(candidate);
    if (found) return { ...found, from: 'path' };
  }
  if (!isRepoId(written)) return undefined;
  const snapshot = findInHfCache(written, context.hfCacheDirs);
  const found = snapshot === undefined ? undefined : asCheckpoint(snapshot);
  return found && { ...found, from: 'hf-cache' };
}

function asCheckpoint(path: string): Omit<ResolvedReference, 'from'> | undefined {
  try {
    const parsed = parseCheckpointRef(path);
    const checkpoint = classifyCheckpoint(parsed.path);
    const ref =
      checkpoint.kind === 'torch-file' && parsed.entry !== undefined
        ? { path: checkpoint.path, entry: parsed.entry }
        : { path: checkpoint.path };
    return { ref, checkpoint };
  } catch {
    return undefined;
  }
}
