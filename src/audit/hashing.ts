// Content hashes of checkpoints: sha256, streamed, memoized by (path, size, mtime) so that a
// multi-GB base is read once; the memo can live in a file (the report cache keeps it there).
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import { z } from 'zod';
import { openRegularFile } from '../engine/checkpoint/regular-file';
import { writeFileAtomic } from './atomic-write';

const MemoEntry = z.object({ size: z.number(), mtimeMs: z.number(), sha256: z.string() });
type MemoEntry = z.infer<typeof MemoEntry>;
const MemoFile = z.object({ version: z.literal(1), files: z.record(z.string(), MemoEntry) });

export interface HashedFiles {
  readonly sha256: string;
  readonly bytes: number;
}

/** Bytes hashed so far of all the files' total (memoized files are skipped, not counted). */
export type HashProgress = (done: number, total: number) => void;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class FileHasher {
  private memo: Map<string, MemoEntry> | undefined;
  private dirty = false;

  /** `memoFile`: where the memo persists (read on first use, written by `flush`); none keeps it in memory. */
  constructor(private readonly memoFile?: string) {}

  /** sha256 of one file; `onBytes` hears of every chunk read (nothing when the memo knows the file). */
  async hashFile(path: string, onBytes?: (bytes: number) => void): Promise<HashedFiles> {
    const abs = resolve(path);
    const { handle } = await openRegularFile(abs);
    let sha256: string;
    let info: Stats;
    try {
      info = await handle.stat();
      const memo = await this.load();
      const known = memo.get(abs);
      if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) {
        return { sha256: known.sha256, bytes: info.size };
      }
      const hash = createHash('sha256');
      for await (const chunk of handle.createReadStream({ autoClose: false, start: 0 })) {
        hash.update(chunk as Buffer);
        onBytes?.((chunk as Buffer).length);
      }
      sha256 = hash.digest('hex');
    } finally {
      await handle.close().catch(() => undefined);
    }
    const memo = await this.load();
    memo.set(abs, { size: info.size, mtimeMs: info.mtimeMs, sha256 });
    this.dirty = true;
    return { sha256, bytes: info.size };
  }

  /**
   * One hash for the files that make up a checkpoint: a single file's own sha256 (so `sha256sum`
   * agrees), else the sha256 of `sha256sum`-style lines `HASH  NAME\n` sorted by name, NAME
   * relative to `root`.
   */
  async hashFiles(root: string, files: readonly string[], onProgress?: HashProgress): Promise<HashedFiles> {
    const parts: { name: string; sha256: string }[] = [];
    const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
    const total = sizes.reduce((a, b) => a + b, 0);
    let done = 0;
    let bytes = 0;
    for (const file of files) {
      const h = await this.hashFile(file, (n) => {
        done += n;
        onProgress?.(done, total);
      });
      parts.push({ name: relative(root, resolve(file)) || basename(file), sha256: h.sha256 });
      bytes += h.bytes;
    }
    if (parts.length === 1) return { sha256: parts[0].sha256, bytes };
    parts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { sha256: sha256Hex(parts.map((p) => `${p.sha256}  ${p.name}\n`).join('')), bytes };
  }

  /**
   * `hashFiles`, unless more than `maxUnknownBytes` of the files are not in the memo (then
   * undefined): what an editor can afford to ask about a checkpoint it merely sees named.
   */
  async hashFilesIfCheap(
    root: string,
    files: readonly string[],
    maxUnknownBytes: number,
  ): Promise<HashedFiles | undefined> {
    const memo = await this.load();
    let unknown = 0;
    for (const file of files) {
      const info = await stat(file);
      const known = memo.get(resolve(file));
      if (!known || known.size !== info.size || known.mtimeMs !== info.mtimeMs) unknown += info.size;
    }
    return unknown > maxUnknownBytes ? undefined : this.hashFiles(root, files);
  }

  /** Writes the memo, merged with what another process may have written meanwhile. */
  async flush(): Promise<void> {
    if (!this.memoFile || !this.dirty || !this.memo) return;
    const merged = new Map([...(await readMemo(this.memoFile)), ...this.memo]);
    await writeFileAtomic(this.memoFile, JSON.stringify({ version: 1, files: Object.fromEntries(merged) }));
    this.dirty = false;
  }

  private async load(): Promise<Map<string, MemoEntry>> {
    this.memo ??= this.memoFile ? await readMemo(this.memoFile) : new Map();
    return this.memo;
  }
}

/** A missing or unreadable memo is an empty one: the worst it costs is hashing again. */
async function readMemo(file: string): Promise<Map<string, MemoEntry>> {
  try {
    const parsed = MemoFile.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? new Map(Object.entries(parsed.data.files)) : new Map();
  } catch {
    return new Map();
  }
}
