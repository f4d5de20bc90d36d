// The checkpoints a change touches: a changed file stands for the checkpoint folder it lies in (a
// PEFT adapter, a model), a torch file for itself. Each is classified in the version that has it.
import { existsSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { type CheckpointKind, folderKind, isTorchFile } from '../../engine/checkpoint/classify';
import type { ChangedPath } from './git';
import { isLfsPointer } from './lfs';

export interface ChangedCheckpoint {
  /** Relative to the repository's root, `/`-separated: a folder, or a torch file. */
  readonly path: string;
  readonly kind: CheckpointKind;
  readonly status: 'added' | 'modified' | 'deleted';
  /** Files of the new version that are Git LFS pointers: their content was not fetched. */
  readonly lfsPointers: readonly string[];
}

/** `headDir` and `baseDir`: the two versions checked out. */
export function changedCheckpoints(
  changes: readonly ChangedPath[],
  headDir: string,
  baseDir: string,
): ChangedCheckpoint[] {
  const found = new Map<string, CheckpointKind>();
  for (const change of changes) {
    const checkpoint = checkpointOf(change.path, headDir) ?? checkpointOf(change.path, baseDir);
    if (checkpoint && !found.has(checkpoint.path)) found.set(checkpoint.path, checkpoint.kind);
  }
  return [...found]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, kind]) => {
      const inHead = exists(headDir, path, kind);
      const inBase = exists(baseDir, path, kind);
      return {
        path,
        kind,
        status: inHead && inBase ? 'modified' : inHead ? 'added' : 'deleted',
        lfsPointers: inHead ? pointersIn(headDir, path, kind) : [],
      };
    });
}

function checkpointOf(path: string, root: string): { path: string; kind: CheckpointKind } | undefined {
  const dir = posix.dirname(path);
  const kind = folderKind(join(root, dir));
  if (kind) return { path: dir, kind };
  if (isTorchFile(path)) return { path, kind: 'torch-file' };
  return undefined;
}

function exists(root: string, path: string, kind: CheckpointKind): boolean {
  return kind === 'torch-file' ? existsSync(join(root, path)) : folderKind(join(root, path)) === kind;
}

function pointersIn(root: string, path: string, kind: CheckpointKind): string[] {
  const files =
    kind === 'torch-file' ? [path] : readdirSync(join(root, path)).map((f) => posix.join(path, f));
  return files.filter((f) => isLfsPointer(join(root, f)));
}
