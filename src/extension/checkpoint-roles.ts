// What each checkpoint folder of the workspace is to an audit, for the "Audit Checkpoint" quick
// pick: a diff (a PEFT adapter), a base (a model folder some diff of the workspace names as its
// base), or another model (a full finetune, or a base no diff here names). Diffs come first.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { samePath } from '../audit/demo-manifest';
import { ADAPTER_CONFIG } from '../engine/checkpoint/peft';

export type CheckpointRole = 'diff' | 'base' | 'model';

export interface CheckpointFolder {
  readonly path: string;
  readonly kind: 'peft-adapter' | 'model-folder';
}

export interface RoledFolder {
  readonly path: string;
  readonly role: CheckpointRole;
  /** For a base: how many of the workspace's diffs name it. */
  readonly diffs?: number;
}

const ORDER: Record<CheckpointRole, number> = { diff: 0, model: 1, base: 2 };

/** The folders with their roles: diffs first, then other models, then bases; by path within each. */
export function checkpointRoles(folders: readonly CheckpointFolder[]): RoledFolder[] {
  const models = folders.filter((f) => f.kind === 'model-folder');
  const named = new Map<string, number>();
  for (const adapter of folders.filter((f) => f.kind === 'peft-adapter')) {
    const base = statedBase(adapter.path);
    if (base === undefined) continue;
    // As the resolver reads a stated base: the adapter's own folder first, then beside it.
    const near = isAbsolute(base)
      ? [base]
      : [resolve(adapter.path, base), resolve(dirname(adapter.path), base)];
    const model = models.find((m) => near.some((p) => samePath(p, m.path)));
    if (model) named.set(model.path, (named.get(model.path) ?? 0) + 1);
  }
  return folders
    .map((f): RoledFolder => {
      if (f.kind === 'peft-adapter') return { path: f.path, role: 'diff' };
      const diffs = named.get(f.path);
      return diffs === undefined ? { path: f.path, role: 'model' } : { path: f.path, role: 'base', diffs };
    })
    .sort((a, b) => ORDER[a.role] - ORDER[b.role] || a.path.localeCompare(b.path));
}

function statedBase(adapterDir: string): string | undefined {
  try {
    const config: unknown = JSON.parse(readFileSync(resolve(adapterDir, ADAPTER_CONFIG), 'utf8'));
    const stated = (config as { base_model_name_or_path?: unknown })?.base_model_name_or_path;
    return typeof stated === 'string' && stated.trim() !== '' ? stated.trim() : undefined;
  } catch {
    return undefined;
  }
}
