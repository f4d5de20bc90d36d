// Audit targets as the panel and its commands name them: a checkpoint reference with a label.
import { basename } from 'node:path';
import type { CheckpointRef } from '../engine/checkpoint/reference';
import type { AuditTarget } from '../protocol/panel';

/** A file that has one of these names stands for its folder (the editor's `adapter_config.json`). */
export const FOLDER_MARKER_FILES: readonly string[] = [
  'adapter_config.json',
  'config.json',
  'model.safetensors.index.json',
];

export function makeTarget(ref: CheckpointRef): AuditTarget {
  const name = basename(ref.path) || ref.path;
  return ref.entry === undefined
    ? { path: ref.path, label: name }
    : { path: ref.path, entry: ref.entry, label: `${name}#${ref.entry}` };
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
