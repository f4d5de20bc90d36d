// A checkpoint's weights at int8 or int4, written once into a cache folder and reused: one
// `weights.bin` holding the quantized linear weights (codes + scales, block-quantize.ts) and a copy
// of the decoder's other tensors as stored (norms, biases), so that the graph's external
// data all lives in one folder (ORT resolves external data in one folder only, and a user's
// checkpoint folder is never written to). The embedding table is not copied: its rows are read from
// the checkpoint itself (runtime/embedding-rows.ts). `manifest.json`, written last, says where each one is;
// the folder is renamed into place whole, so a half-written one is never used.
// The key is the source files' identity (real path, size, modification time) and the format, so
// a checkpoint changed in place is quantized again. The newest few folders are kept.
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { filesIdentity, userCacheFolder } from '../checkpoint/cache-identity';
import { DTYPE_BYTES } from '../checkpoint/dtype';
import { openRegularFile } from '../checkpoint/regular-file';
import { tensorNames } from '../checkpoint/tensor-names';
import { LINEAR_MODULES, type TensorRef, type TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { blobBytes, blocksPerRow, type QuantizedRows } from './block-quantize';
import { createQuantizer, type Quantizer } from './quantize-pool';

// 2: the embedding table no longer copied.
const FORMAT_VERSION = 2;
const MANIFEST = 'manifest.json';
const DATA = 'weights.bin';
/** Offsets aligned so ORT can map each initializer straight from the file. */
const ALIGN = 4096;
/** float32 values quantized per chunk: bounds the memory a large LM head needs while it is read. */
const CHUNK_VALUES = 4 * 1024 * 1024;
/** Values below which a chunk is not split further for more threads. */
const MIN_CHUNK_VALUES = 64 * 1024;
/** Quantized checkpoints kept (the least recently used beyond these are removed). */
const KEEP = 3;

export interface NBitsRef {
  readonly bits: 4 | 8;
  readonly blockSize: number;
  /** Output features (rows of the stored weight). */
  readonly n: number;
  /** Input features. */
  readonly k: number;
  readonly codes: { readonly offset: number; readonly length: number };
  readonly scales: { readonly offset: number; readonly length: number };
}

export interface QuantizedWeights {
  /** The folder every external-data location resolves in. */
  readonly folder: string;
  readonly file: string;
  /** The decoder's tensors as stored, read from `file` (every name the graph asks for that is not quantized). */
  readonly stored: TensorSource;
  /** The quantized linear weights by checkpoint name. */
  nbits(name: string): NBitsRef | undefined;
  /** Bytes of `file` (the embedding table is not in it). */
  readonly bytes: number;
  /** Whether this call wrote it (false: reused from an earlier run). */
  readonly created: boolean;
}

interface Manifest {
  readonly version: number;
  readonly key: string;
  readonly stored: Record<string, Omit<TensorRef, 'file' | 'name'>>;
  readonly nbits: Record<string, NBitsRef>;
  readonly bytes: number;
}

/** The folder quantized checkpoints are kept in: DIT_QUANTIZED_CACHE, else the user's cache. */
export function defaultQuantizedCacheRoot(): string {
  return userCacheFolder('quantized', process.env.DIT_QUANTIZED_CACHE);
}

/** The names MatMulNBits multiplies by: every linear weight of the decoder, and the LM head. */
export function quantizedNames(o: ModelOptions): string[] {
  const names = tensorNames(o.weightPrefix);
  const out: string[] = [];
  for (let layer = 0; layer < o.numLayers; layer++) {
    for (const module of LINEAR_MODULES) out.push(names.linear(layer, module).weight);
  }
  out.push(o.tieWordEmbeddings ? names.embed : names.lmHead);
  return out;
}

/** The bytes the weights take at `bits` (estimate for `auto`, before anything is written). */
export function quantizedBytes(
  o: ModelOptions,
  tensors: TensorSource,
  bits: 4 | 8,
  blockSize: number,
): number {
  const quantized = new Set(quantizedNames(o));
  const embed = tensorNames(o.weightPrefix).embed;
  let bytes = 0;
  for (const name of tensors.names()) {
    const ref = tensors.get(name);
    if (!ref) continue;
    if (quantized.has(name)) {
      const [n, k] = ref.shape;
      bytes += n * blocksPerRow(k, blockSize) * (blobBytes(bits, blockSize) + 4);
    }
    if ((!quantized.has(name) || name === embed) && name.startsWith(o.weightPrefix)) bytes += ref.byteLength;
  }
  return bytes;
}

export async function quantizedWeights(
  o: ModelOptions,
  tensors: TensorSource,
  bits: 4 | 8,
  blockSize: number,
  root: string = defaultQuantizedCacheRoot(),
  threads = 1,
): Promise<QuantizedWeights> {
  const key = keyOf(tensors, bits, blockSize);
  const folder = join(root, key.slice(0, 32));
  const existing = readManifest(folder, key);
  if (existing) {
    touch(folder);
    return view(folder, existing, false);
  }
  mkdirSync(root, { recursive: true });
  const partial = join(root, `.partial-${key.slice(0, 16)}-${process.pid}-${Date.now()}`);
  mkdirSync(partial);
  try {
    const quantizer = createQuantizer(threads);
    const manifest = await write(partial, key, o, tensors, bits, blockSize, quantizer).finally(() =>
      quantizer.close(),
    );
    try {
      renameSync(partial, folder);
    } catch {
      // Another process finished the same checkpoint first: use its copy. A damaged one (an
      // interrupted removal, a disk error) is replaced.
      const theirs = readManifest(folder, key);
      if (theirs) {
        rmSync(partial, { recursive: true, force: true });
        return view(folder, theirs, false);
      }
      rmSync(folder, { recursive: true, force: true });
      renameSync(partial, folder);
    }
    try {
      prune(root, folder);
    } catch {
      // Another process pruning at the same time: the copy just written is in place either way.
    }
    return view(folder, manifest, true);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

function keyOf(tensors: TensorSource, bits: number, blockSize: number): string {
  return createHash('sha256')
    .update(JSON.stringify([FORMAT_VERSION, bits, blockSize, filesIdentity(tensors.files)]))
    .digest('hex');
}

function readManifest(folder: string, key: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(folder, MANIFEST), 'utf8')) as Manifest;
    if (m.version !== FORMAT_VERSION || m.key !== key) return undefined;
    if (statSync(join(folder, DATA)).size !== m.bytes) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

function view(folder: string, m: Manifest, created: boolean): QuantizedWeights {
  const file = join(folder, DATA);
  const refs = new Map<string, TensorRef>(
    Object.entries(m.stored).map(([name, r]) => [name, { ...r, name, file }]),
  );
  return {
    folder,
    file,
    bytes: m.bytes,
    created,
    nbits: (name) => m.nbits[name],
    stored: {
      files: [file],
      get: (name) => refs.get(name),
      names: () => [...refs.keys()],
      readFloat32: () => Promise.reject(new Error('the quantized copy is read by onnxruntime only')),
    },
  };
}

async function write(
  folder: string,
  key: string,
  o: ModelOptions,
  tensors: TensorSource,
  bits: 4 | 8,
  blockSize: number,
  quantizer: Quantizer,
): Promise<Manifest> {
  const quantized = new Set(quantizedNames(o));
  const embed = tensorNames(o.weightPrefix).embed;
  const out = await open(join(folder, DATA), 'w');
  const stored: Manifest['stored'] = {};
  const nbits: Record<string, NBitsRef> = {};
  let position = 0;
  const append = async (bytes: Uint8Array): Promise<{ offset: number; length: number }> => {
    const offset = Math.ceil(position / ALIGN) * ALIGN;
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await out.write(bytes, done, bytes.byteLength - done, offset + done);
      done += bytesWritten;
    }
    position = offset + bytes.byteLength;
    return { offset, length: bytes.byteLength };
  };
  try {
    for (const name of tensors.names().sort()) {
      const ref = tensors.get(name);
      if (!ref) continue;
      if (quantized.has(name)) nbits[name] = await quantizeTensor(ref, bits, blockSize, append, quantizer);
      if (!quantized.has(name) && name !== embed && name.startsWith(o.weightPrefix)) {
        const { offset, length } = await copyTensor(ref, append);
        stored[name] = { dtype: ref.dtype, shape: ref.shape, offset, byteLength: length };
      }
    }
    for (const name of quantized) {
      if (!nbits[name]) throw new Error(`the checkpoint has no tensor ${name} to quantize`);
    }
  } finally {
    await out.close();
  }
  const manifest: Manifest = { version: FORMAT_VERSION, key, stored, nbits, bytes: position };
  writeFileSync(join(folder, MANIFEST), JSON.stringify(manifest));
  return manifest;
}

type Append = (bytes: Uint8Array) => Promise<{ offset: number; length: number }>;

async function quantizeTensor(
  ref: TensorRef,
  bits: 4 | 8,
  blockSize: number,
  append: Append,
  quantizer: Quantizer,
): Promise<NBitsRef> {
  if (ref.shape.length !== 2) throw new Error(`${ref.name} is not a matrix, so it cannot be quantized`);
  const [n, k] = ref.shape;
  // Small enough that a weight goes to every thread, and no smaller than is worth sending.
  const perChunk = Math.min(CHUNK_VALUES, Math.max(MIN_CHUNK_VALUES, Math.ceil((n * k) / quantizer.width)));
  const rowsPerChunk = Math.max(1, Math.floor(perChunk / k));
  const rowBytes = k * DTYPE_BYTES[ref.dtype];
  // Chunks in order, a few in flight at once (one reading while the others quantize).
  const chunks: Promise<QuantizedRows>[] = [];
  await withSource(ref, async (read) => {
    for (let row = 0; row < n; row += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, n - row);
      const bytes = await read(ref.offset + row * rowBytes, rows * rowBytes);
      chunks.push(quantizer.quantize(ref.dtype, bytes, rows, k, bits, blockSize));
      // Handled when awaited below; caught here so a failure is not reported unhandled meanwhile.
      chunks.at(-1)?.catch(() => undefined);
      if (chunks.length > quantizer.width) await chunks[chunks.length - 1 - quantizer.width];
    }
  });
  const done = await Promise.all(chunks);
  const codeChunks = done.map((q) => q.codes);
  const scaleChunks = done.map((q) => q.scales);
  const codes = await appendAll(codeChunks, append);
  const scales = await appendAll(
    scaleChunks.map((s) => new Uint8Array(s.buffer, s.byteOffset, s.byteLength)),
    append,
  );
  return { bits, blockSize, n, k, codes, scales };
}

/** Appends the chunks back to back (one aligned region). */
async function appendAll(chunks: Uint8Array[], append: Append): Promise<{ offset: number; length: number }> {
  const total = chunks.reduce((s, c) => s + c.byteLength, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    joined.set(c, at);
    at += c.byteLength;
  }
  return append(joined);
}

async function copyTensor(ref: TensorRef, append: Append): Promise<{ offset: number; length: number }> {
  let bytes: Uint8Array = new Uint8Array(0);
  await withSource(ref, async (read) => {
    bytes = await read(ref.offset, ref.byteLength);
  });
  return append(bytes);
}

async function withSource(
  ref: TensorRef,
  use: (read: (position: number, length: number) => Promise<Uint8Array>) => Promise<void>,
): Promise<void> {
  const { handle } = await openRegularFile(ref.file);
  try {
    await use((position, length) => readFully(handle, position, length, ref.file));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function readFully(
  handle: FileHandle,
  position: number,
  length: number,
  file: string,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
    if (bytesRead === 0)
      throw new Error(`${file} ended while its weights were being quantized; did it change?`);
    done += bytesRead;
  }
  return bytes;
}

function touch(folder: string): void {
  const now = new Date();
  try {
    utimesSync(folder, now, now);
  } catch {
    // read-only cache: still usable
  }
}

/** Removes all but the KEEP most recently used quantized checkpoints (and stale partial ones). */
function prune(root: string, keep: string): void {
  const entries = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => ({
      path: join(root, e.name),
      partial: e.name.startsWith('.partial-'),
      time: statSync(join(root, e.name)).mtimeMs,
    }));
  const day = 24 * 3600 * 1000;
  for (const e of entries)
    if (e.partial && Date.now() - e.time > day) rmSync(e.path, { recursive: true, force: true });
  const done = entries.filter((e) => !e.partial && e.path !== keep).sort((a, b) => b.time - a.time);
  for (const e of done.slice(KEEP - 1)) rmSync(e.path, { recursive: true, force: true });
}
