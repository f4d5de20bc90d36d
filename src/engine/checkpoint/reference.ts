// Which checkpoint: a path, and for a `.pt` list of weight diffs the entry in it. Text (`PATH` or
// `PATH#INDEX`) is parsed here only, where it comes in (a CLI argument, a setting, a user's answer);
// from there on the reference travels typed, down to the engine's worker.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { printable } from './pickle/errors';
import { InputError } from './types';

export interface CheckpointRef {
  readonly path: string;
  /** The index of one weight diff in a `.pt` list of them. */
  readonly entry?: number;
}

const WHOLE_NUMBER = /^\d{1,9}$/;

/**
 * `PATH` when that exists (a file may be named `dit#2.pt`), else `PATH#INDEX` split at the last
 * `#` when the part before it exists. The path comes back absolute.
 */
export function parseCheckpointRef(
  text: string,
  exists: (path: string) => boolean = existsSync,
): CheckpointRef {
  if (text.trim() === '') throw new InputError('no checkpoint path given');
  if (exists(text)) return { path: resolve(text) };
  const hash = text.lastIndexOf('#');
  if (hash > 0 && exists(text.slice(0, hash))) {
    const index = text.slice(hash + 1);
    if (!WHOLE_NUMBER.test(index)) {
      throw new InputError(`${printable(text)}: the INDEX in FILE#INDEX must be a whole number`);
    }
    return { path: resolve(text.slice(0, hash)), entry: Number(index) };
  }
  throw new InputError(`${printable(text)} does not exist`);
}

/** `PATH` or `PATH#INDEX`: for messages, titles and keys (never parsed back). */
export function formatCheckpointRef(ref: CheckpointRef): string {
  return ref.entry === undefined ? ref.path : `${ref.path}#${ref.entry}`;
}
