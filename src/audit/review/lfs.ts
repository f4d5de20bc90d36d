// Git LFS pointer files: the checkout holds a small text stub where the weights would be when
// the LFS content was not fetched. Such a checkpoint is reported as absent, not audited.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const POINTER_PREFIX = 'version https://git-lfs.github.com/spec/v1';
/** The spec caps pointer files at 1024 bytes. */
const MAX_POINTER_BYTES = 1024;

export function isLfsPointer(file: string): boolean {
  try {
    const stats = statSync(file);
    if (!stats.isFile() || stats.size > MAX_POINTER_BYTES) return false;
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(POINTER_PREFIX.length);
      readSync(fd, head, 0, head.length, 0);
      return head.toString('utf8') === POINTER_PREFIX;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
