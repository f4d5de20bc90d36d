// What can be audited, decided from the file system alone (no VS Code API), so that the menus'
// context key, the commands and the tests share one definition.
import { readdir, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { AuditTarget } from './panel/protocol';

export type TargetKind = 'peft-folder' | 'model-folder' | 'safetensors' | 'torch';

/** File kinds the explorer menu offers an audit for (package.json's `when` clauses say the same). */
export const AUDITABLE_FILE_EXTENSIONS: readonly string[] = ['.safetensors', '.pt', '.pth', '.bin'];

export type Classification =
  | { readonly ok: true; readonly kind: TargetKind }
  | { readonly ok: false; readonly problem: string };

/** A PEFT adapter folder (`adapter_config.json`) or a model folder (`config.json` + safetensors). */
export async function folderKind(dir: string): Promise<'peft-folder' | 'model-folder' | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  if (names.includes('adapter_config.json')) return 'peft-folder';
  if (
    names.includes('config.json') &&
    names.some((n) => n.endsWith('.safetensors') || n.endsWith('.safetensors.index.json'))
  )
    return 'model-folder';
  return undefined;
}

export async function classifyPath(path: string): Promise<Classification> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (e) {
    return {
      ok: false,
      problem: `${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    };
  }
  if (isDirectory) {
    const kind = await folderKind(path);
    if (kind) return { ok: true, kind };
    return {
      ok: false,
      problem: `${basename(path)} is neither a PEFT adapter folder (adapter_config.json) nor a model folder (config.json and .safetensors weights)`,
    };
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') return { ok: true, kind: 'safetensors' };
  if (ext === '.pt' || ext === '.pth' || ext === '.bin') return { ok: true, kind: 'torch' };
  return {
    ok: false,
    problem: `${basename(path)} is not a checkpoint the auditor reads (${AUDITABLE_FILE_EXTENSIONS.join(', ')}, a PEFT adapter folder or a model folder)`,
  };
}

/** A file or folder that has one of `names` next to it stands for its folder (the editor's `adapter_config.json`). */
export const FOLDER_MARKER_FILES: readonly string[] = [
  'adapter_config.json',
  'config.json',
  'model.safetensors.index.json',
];

export function makeTarget(path: string, entry?: number): AuditTarget {
  const name = basename(path) || path;
  return entry === undefined ? { path, label: name } : { path, entry, label: `${name}#${entry}` };
}

/** One line for a quick pick row of a `.pt` list entry. */
export function describeDiffEntry(e: { index: number; topic?: string; trigger?: number | string }): {
  label: string;
  description: string;
} {
  return {
    label: `#${e.index}${e.topic === undefined ? '' : `  ${e.topic}`}`,
    description: e.trigger === undefined ? '' : `trigger ${e.trigger}`,
  };
}
