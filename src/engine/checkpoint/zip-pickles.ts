// Pickles a zip holds besides torch's `<prefix>/data.pkl`: torch never loads them, but other loaders
// and scanners do (a bare `data.pkl` at the root, one under another name), so each is scanned and a
// forbidden global in any of them makes the file unsafe. An entry is taken for a pickle when its
// name ends in .pkl or its first byte is PROTO (0x80); the storages under `<prefix>/data/` are not.
import type { Entry } from 'yauzl';
import { InputError } from './types';
import { type PickleScan, scanPickle } from './unpickler';

export interface EmbeddedPickle {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** All such entries together: far more than the few small files beside a torch pickle. */
const MAX_EMBEDDED_BYTES = 64 * 1024 * 1024;
const PROTO = 0x80;

export async function readEmbeddedPickles(
  entries: readonly Entry[],
  read: (entry: Entry, limit: number) => Promise<Uint8Array>,
  path: string,
): Promise<EmbeddedPickle[]> {
  const out: EmbeddedPickle[] = [];
  let total = 0;
  for (const entry of entries) {
    if (entry.fileName.endsWith('/') || entry.uncompressedSize === 0) continue;
    total += entry.uncompressedSize;
    if (total > MAX_EMBEDDED_BYTES) {
      throw new InputError(
        `cannot read ${path}: it holds more than ${MAX_EMBEDDED_BYTES} bytes outside its storages`,
      );
    }
    const bytes = await read(entry, MAX_EMBEDDED_BYTES);
    if (entry.fileName.endsWith('.pkl') || bytes[0] === PROTO) out.push({ name: entry.fileName, bytes });
  }
  return out;
}

/**
 * The globals of a zip's pickles: the main one (`data.pkl`, which must scan) and the others, which
 * count when they scan or name a forbidden global before breaking off; one that is not a pickle
 * after all is passed over.
 */
export function scanZipPickles(
  path: string,
  main: Uint8Array | undefined,
  others: readonly EmbeddedPickle[],
): Pick<PickleScan, 'globals' | 'forbidden'> {
  const scans: Pick<PickleScan, 'globals' | 'forbidden'>[] = main ? [scanPickle(main, path)] : [];
  for (const other of others) {
    try {
      scans.push(scanPickle(other.bytes, `${path} (${other.name})`));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
    }
  }
  return {
    globals: [...new Set(scans.flatMap((s) => s.globals))],
    forbidden: [...new Set(scans.flatMap((s) => s.forbidden))],
  };
}
