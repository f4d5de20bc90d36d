// Files of a checkpoint folder that are symlinks leading out of it. A Hugging Face cache snapshot
// is made of links into its repository's blobs/ (models--org--name/snapshots/REV/x -> ../../blobs/H),
// which stay inside that repository folder; a link anywhere else (another user's checkpoint, a
// device, a secret) is named so that `inspect` can warn about what it was about to read.
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';

export interface OutsideLink {
  readonly file: string;
  readonly target: string;
}

export function linksLeavingFolder(dir: string, files: readonly string[]): OutsideLink[] {
  const home = allowedRoot(realOrSelf(resolve(dir)));
  const out: OutsideLink[] = [];
  for (const file of files) {
    const target = realOrSelf(file);
    const rel = relative(home, target);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      out.push({ file, target });
    }
  }
  return out;
}

/** The folder a checkpoint's files may resolve into: its own, or its cache repository's. */
function allowedRoot(dir: string): string {
  const parent = dirname(dir);
  return basename(parent) === 'snapshots' ? dirname(parent) : dir;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
