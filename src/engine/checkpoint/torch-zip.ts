// Opens a torch.save file: the zip format (`<prefix>/data.pkl` + one raw file per storage under
// `<prefix>/data/`) is read entry by entry from disk; the legacy raw-pickle format is only scanned,
// so its globals can be refused by name, and is never loaded.

import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { DTYPE_BYTES } from './dtype';
import { openRegularFile } from './regular-file';
import { InputError } from './types';
import {
  forbiddenGlobalError,
  MAX_OPS,
  type PickledStorage,
  type PickleScan,
  printable,
  scanPickle,
} from './unpickler';
import { type EmbeddedPickle, readEmbeddedPickles } from './zip-pickles';
import { WindowedFileReader } from './zip-reader';

export interface TorchZip {
  readonly format: 'zip';
  readonly path: string;
  /** The archive's folder, the first path component of its entries. */
  readonly prefix: string;
  /** The bytes of `<prefix>/data.pkl`. */
  readonly pickle: Uint8Array;
  /** Other entries that hold pickles (outside `<prefix>/data/`): torch never loads them, but they are scanned. */
  readonly otherPickles: readonly EmbeddedPickle[];
  /** The little-endian bytes of one storage, after checking numel × element size against the entry. */
  readStorage(storage: PickledStorage): Promise<Uint8Array>;
  close(): void;
}

export interface TorchLegacy {
  readonly format: 'legacy';
  readonly path: string;
  /** The leading bytes of the file, where its pickles are. */
  readonly head: Uint8Array;
}

/** A zip that is not a torch.save archive; its pickle-like entries are kept to be scanned. */
export interface ForeignZip {
  readonly format: 'foreign-zip';
  readonly path: string;
  readonly otherPickles: readonly EmbeddedPickle[];
  /** Why it is no torch.save archive, as the message to refuse it with. */
  readonly problem: string;
}

export type TorchFile = TorchZip | TorchLegacy | ForeignZip;

/** Legacy files keep their pickles first and the storages after; the pickles are small. */
const LEGACY_HEAD_BYTES = 64 * 1024 * 1024;
/** A torch zip holds one entry per storage and a few more; storages are bounded by the tensors. */
const MAX_ENTRIES = 200_000;
/** A central directory record is at least this long, which bounds a believable entry count. */
const MIN_CD_RECORD = 46;
const ZIP_SIGNATURES = [0x04034b50, 0x06054b50]; // local file header, empty archive
/** `pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)`: the first pickle of a legacy torch.save file. */
const LEGACY_MAGIC = Uint8Array.from([
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
]);

/** Opens a torch.save file for reading; a zip must be closed by the caller. */
export async function openTorchFile(path: string): Promise<TorchFile> {
  const head = await readHead(path);
  const signature = head.length >= 4 ? new DataView(head.buffer, head.byteOffset).getUint32(0, true) : 0;
  if (ZIP_SIGNATURES.includes(signature)) return openZip(path);
  return { format: 'legacy', path, head };
}

/**
 * Globals referenced by a legacy file's pickles. A torch.save file (it starts with torch's magic
 * number) holds five, then raw storage bytes; any other raw pickle file is read as a stream of
 * pickles back to back, each scanned, so a payload in a second pickle after the first STOP is seen.
 */
export function scanLegacy(file: TorchLegacy): Pick<PickleScan, 'globals' | 'forbidden'> {
  const scans = [scanFirstPickle(file)];
  const first = file.head.subarray(0, scans[0].end);
  const torch = first.length === LEGACY_MAGIC.length && first.every((b, i) => b === LEGACY_MAGIC[i]);
  // protocol version, sys_info, the object, the storage keys
  const count = torch ? 5 : Number.POSITIVE_INFINITY;
  let ops = scans[0].ops;
  const forbidden = () => [...new Set(scans.flatMap((s) => s.forbidden))];
  while (scans.length < count && scans[scans.length - 1].end < file.head.length) {
    if (ops > MAX_OPS)
      throw new InputError(`cannot read ${file.path}: its pickles run past ${MAX_OPS} opcodes`);
    try {
      scans.push(scanPickle(file.head, file.path, scans[scans.length - 1].end));
    } catch (error) {
      // What an earlier pickle names would have run before this one failed to load.
      if (error instanceof InputError && forbidden().length > 0) break;
      throw error;
    }
    ops += scans[scans.length - 1].ops;
  }
  const globals = [...new Set(scans.flatMap((s) => s.globals))];
  return { globals, forbidden: forbidden() };
}

/** A file that is no zip and does not even start with a pickle: no torch.save file of any version. */
class NotTorchFileError extends InputError {}

function scanFirstPickle(file: TorchLegacy): PickleScan {
  try {
    return scanPickle(file.head, file.path);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new NotTorchFileError(`${file.path} is not a torch.save file: neither a zip archive nor a pickle`);
  }
}

/** Always throws: by name when a legacy file needs a forbidden global, else because the format is unsupported. */
export function refuseLegacy(file: TorchLegacy): never {
  let scan: ReturnType<typeof scanLegacy>;
  try {
    scan = scanLegacy(file);
  } catch (err) {
    if (!(err instanceof InputError) || err instanceof NotTorchFileError) throw err;
    throw new InputError(
      `refusing to load ${file.path}: it is not a torch.save zip, and its pickle cannot be read (${err.message})`,
    );
  }
  if (scan.forbidden.length > 0) throw forbiddenGlobalError(file.path, scan.forbidden[0]);
  throw new InputError(
    `cannot load ${file.path}: legacy torch.save format is not supported (re-save it with torch.save from torch >= 1.6)`,
  );
}

async function readHead(path: string): Promise<Uint8Array> {
  try {
    const { handle, size } = await openRegularFile(path, (p) => new InputError(`cannot read ${path}: ${p}`));
    try {
      const head = new Uint8Array(Math.min(size, LEGACY_HEAD_BYTES));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw asInputError(path, err);
  }
}

function asInputError(path: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new InputError(`cannot read ${path}: no such file`);
  const why = err instanceof Error ? err.message : String(err);
  return new InputError(`cannot read ${path} as a torch.save zip: ${printable(why)}`);
}

async function openZip(path: string): Promise<TorchZip | ForeignZip> {
  const { handle, size } = await openRegularFile(path, (p) => new InputError(`cannot read ${path}: ${p}`));
  const zip = await new Promise<ZipFile>((resolve, reject) => {
    try {
      yauzl.fromRandomAccessReader(
        new WindowedFileReader(handle),
        size,
        { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true },
        (err, z) => (err ? reject(asInputError(path, err)) : resolve(z)),
      );
    } catch (err) {
      reject(asInputError(path, err));
    }
  }).catch(async (err: unknown) => {
    await handle.close().catch(() => undefined);
    throw err;
  });
  // yauzl may emit 'error' after we stop listening (say, while closing); an unheard one would crash.
  zip.on('error', () => {});
  try {
    const entries = await listEntries(zip, path);
    const first = entries.keys().next().value;
    const slash = first?.indexOf('/') ?? -1;
    const prefix = first !== undefined && slash > 0 ? first.slice(0, slash) : undefined;
    const pickleEntry = prefix === undefined ? undefined : entries.get(`${prefix}/data.pkl`);
    const otherPickles = await readEmbeddedPickles(
      [...entries.values()].filter(
        (e) => e !== pickleEntry && !(prefix && e.fileName.startsWith(`${prefix}/data/`)),
      ),
      (entry, limit) => readEntry(zip, entry, path, limit),
      path,
    );
    if (prefix === undefined || pickleEntry === undefined) {
      zip.close();
      const problem =
        prefix === undefined
          ? `cannot read ${path}: not a torch.save archive`
          : `cannot read ${path}: it has no ${prefix}/data.pkl`;
      return { format: 'foreign-zip', path, otherPickles, problem };
    }
    const byteorder = entries.get(`${prefix}/byteorder`);
    if (byteorder !== undefined) {
      const order = new TextDecoder().decode(await readEntry(zip, byteorder, path, 16));
      if (order !== 'little')
        throw new InputError(`cannot read ${path}: byte order ${printable(order)} is not supported`);
    }
    const pickle = await readEntry(zip, pickleEntry, path);
    return {
      format: 'zip',
      path,
      prefix,
      pickle,
      otherPickles,
      readStorage: (storage) => readStorage(zip, entries, prefix, path, storage),
      close: () => zip.close(),
    };
  } catch (err) {
    zip.close();
    throw asInputError(path, err);
  }
}

function listEntries(zip: ZipFile, path: string): Promise<Map<string, Entry>> {
  if (zip.entryCount > MAX_ENTRIES || zip.entryCount * MIN_CD_RECORD > zip.fileSize) {
    return Promise.reject(
      new InputError(`cannot read ${path}: its zip directory claims ${zip.entryCount} entries`),
    );
  }
  return new Promise((resolve, reject) => {
    const entries = new Map<string, Entry>();
    const done = (err?: unknown) => {
      zip.removeListener('entry', onEntry);
      zip.removeListener('end', onEnd);
      zip.removeListener('error', onError);
      if (err === undefined) resolve(entries);
      else reject(asInputError(path, err));
    };
    const onEntry = (entry: Entry) => {
      if (entries.has(entry.fileName)) {
        done(new InputError(`cannot read ${path}: entry ${printable(entry.fileName)} appears twice`));
        return;
      }
      entries.set(entry.fileName, entry);
      zip.readEntry();
    };
    const onEnd = () => done();
    const onError = (err: unknown) => done(err);
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

async function readStorage(
  zip: ZipFile,
  entries: ReadonlyMap<string, Entry>,
  prefix: string,
  path: string,
  storage: PickledStorage,
): Promise<Uint8Array> {
  const entry = entries.get(`${prefix}/data/${storage.key}`);
  if (entry === undefined) throw new InputError(`cannot read ${path}: storage ${storage.key} is missing`);
  const expected = storage.numel * DTYPE_BYTES[storage.dtype];
  if (entry.uncompressedSize !== expected) {
    throw new InputError(
      `cannot read ${path}: storage ${storage.key} holds ${entry.uncompressedSize} bytes, ` +
        `but the pickle says ${storage.numel} ${storage.dtype} elements (${expected} bytes)`,
    );
  }
  return readEntry(zip, entry, path);
}

/** Reads one whole entry into a buffer of its declared size, after bounding that size. */
function readEntry(zip: ZipFile, entry: Entry, path: string, limit = zip.fileSize): Promise<Uint8Array> {
  const name = printable(entry.fileName);
  if (entry.isEncrypted()) return Promise.reject(new InputError(`cannot read ${path}: ${name} is encrypted`));
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return Promise.reject(
      new InputError(`cannot read ${path}: ${name} uses compression ${entry.compressionMethod}`),
    );
  }
  // Deflate could expand past the file; nothing torch writes does, so neither may anything we read.
  if (entry.uncompressedSize > limit || entry.compressedSize > zip.fileSize) {
    return Promise.reject(
      new InputError(`cannot read ${path}: ${name} claims ${entry.uncompressedSize} bytes`),
    );
  }
  const size = entry.uncompressedSize;
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(asInputError(path, err));
    try {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return fail(err);
        const out = new Uint8Array(size);
        let filled = 0;
        stream.on('data', (chunk: Buffer) => {
          if (filled + chunk.length > size) {
            stream.destroy();
            fail(new InputError(`cannot read ${path}: ${name} is longer than it claims`));
            return;
          }
          out.set(chunk, filled);
          filled += chunk.length;
        });
        stream.on('error', fail);
        stream.on('end', () =>
          filled === size ? resolve(out) : fail(new InputError(`cannot read ${path}: ${name} is truncated`)),
        );
      });
    } catch (err) {
      fail(err);
    }
  });
}
