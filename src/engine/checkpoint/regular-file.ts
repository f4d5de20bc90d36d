// The one check every reader makes before it reads a byte: the path (symlinks followed) is a
// regular file. A folder, a device such as /dev/zero, a FIFO or a socket is refused in one line;
// the file is opened non-blocking, so a FIFO cannot stall the open, and checked on the open handle,
// so what is read is what was checked.
import { constants, lstatSync, statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { InputError } from './types';

export interface RegularFile {
  readonly handle: FileHandle;
  readonly size: number;
}

/** Describes a file-system error in a few words, for an InputError. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'ELOOP') return 'is a symlink loop';
  if (code === 'ENOTDIR') return 'has a file where a folder should be in its path';
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

/** What the path is when it is not a regular file, in a few words; undefined for a regular file. */
function notRegular(stats: {
  isFile(): boolean;
  isDirectory(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
}): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'is a folder, not a file';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'is a device, not a regular file';
  if (stats.isFIFO()) return 'is a pipe, not a regular file';
  if (stats.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

/** Opens `path` for reading, or throws `fail(problem)` (default: an InputError naming the path). */
export async function openRegularFile(
  path: string,
  fail: (problem: string) => InputError = (p) => new InputError(`${path}: ${p}`),
): Promise<RegularFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw fail(describeFsError(error));
  }
  try {
    const stats = await handle.stat();
    const problem = notRegular(stats);
    if (problem !== undefined) throw fail(problem);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error instanceof InputError ? error : fail(describeFsError(error));
  }
}

/** Throws unless `path` is a regular file now (for callers that hand the path on, e.g. to a hash). */
export function requireRegularFile(
  path: string,
  fail: (problem: string) => InputError = (p) => new InputError(`${path}: ${p}`),
): void {
  let problem: string | undefined;
  try {
    problem = notRegular(statSync(path));
  } catch (error) {
    problem = describeFsError(error);
  }
  if (problem !== undefined) throw fail(problem);
}

/** Whether anything at all is at `path` (a broken symlink too): the reader then says what is wrong with it. */
export function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The whole file, refused when it is longer than `maxBytes`. */
export async function readRegularFile(
  path: string,
  maxBytes: number,
  fail: (problem: string) => InputError = (p) => new InputError(`${path}: ${p}`),
): Promise<Buffer> {
  const { handle, size } = await openRegularFile(path, fail);
  try {
    if (size > maxBytes)
      throw fail(`is ${size} bytes, more than the ${maxBytes} dit-auditor reads of such a file`);
    const out = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(out, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return out.subarray(0, filled);
  } catch (error) {
    throw error instanceof InputError ? error : fail(describeFsError(error));
  } finally {
    await handle.close().catch(() => undefined);
  }
}
