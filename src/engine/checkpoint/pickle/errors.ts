// Error messages for pickles: every one names the file and stays on one line.

import { InputError } from '../types';

/** Names from a hostile file go into one-line messages: escape control characters, cap the length. */
export function printable(text: string): string {
  const escaped = text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 200 ? `${escaped.slice(0, 200)}...` : escaped;
}

export function malformed(file: string, why: string): InputError {
  return new InputError(`cannot read ${file}: malformed pickle: ${why}`);
}
