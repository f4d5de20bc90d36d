// Safetensors reader: parses and checks only the header; tensor bytes are read on demand.
// Layout: u64 little-endian header length N, N bytes of JSON, then the data section that the
// header's `data_offsets` index (relative to the start of the data section).

import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { DTYPE_BYTES, DTYPES, isDType, toFloat32 } from './dtype';
import { describeFsError, openRegularFile } from './regular-file';
import { parseStrictJson } from './strict-json';
import { type DType, InputError, type TensorRef, type TensorSource } from './types';

/** Headers larger than this are refused rather than read into memory. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** Tensors in one file: a whole 405B model holds about 1,100. */
const MAX_TENSORS = 100_000;

// A single FileHandle.read is limited to 2 GiB; big tensors are read in pieces.
const READ_CHUNK_BYTES = 1 << 30;
// readTensorsFloat32 reads neighbouring tensors in one call: at most this many bytes per call, and
// no more than this many unwanted bytes between two of them.
const COALESCE_MAX_BYTES = 64 * 1024 * 1024;
const COALESCE_GAP_BYTES = 64 * 1024;

export interface SafetensorsFile extends TensorSource {
  /** Absolute path of the file. */
  readonly path: string;
  /** The header's `__metadata__` map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

interface RawEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** Quotes a name taken from the file so that it stays on one line and short. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
}

export async function openSafetensorsFile(file: string): Promise<SafetensorsFile> {
  const abs = path.resolve(file);
  const fail = (problem: string) => new InputError(`${abs}: ${problem}`);
  const { handle, size } = await openRegularFile(abs, fail);
  let entries: RawEntry[];
  let metadata: Record<string, string>;
  let dataStart: number;
  try {
    if (size < 8) throw fail(`file is ${size} bytes, too short to hold the 8-byte header length`);
    const lengthBytes = await readAt(handle, 0, 8, fail);
    const headerLength = Buffer.from(lengthBytes).readBigUInt64LE(0);
    if (headerLength > BigInt(MAX_HEADER_BYTES)) {
      throw fail(
        `header length ${headerLength} bytes is absurd (the limit is 100 MB); not a safetensors file?`,
      );
    }
    const n = Number(headerLength);
    if (8 + n > size) {
      throw fail(`header length ${n} bytes runs past the end of the file (${size} bytes); truncated?`);
    }
    dataStart = 8 + n;
    const header = parseHeaderJson(await readAt(handle, 8, n, fail), fail);
    ({ entries, metadata } = parseHeader(header, size - dataStart, fail));
  } finally {
    await handle.close().catch(() => undefined);
  }
  return makeSource(abs, dataStart, entries, metadata);
}

function parseHeaderJson(bytes: Uint8Array, fail: (problem: string) => InputError): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw fail('header is not valid UTF-8');
  }
  const parsed = parseStrictJson(text);
  if ('problem' in parsed) {
    throw fail(
      parsed.problem.startsWith('not valid JSON') ? 'header is not valid JSON' : `header ${parsed.problem}`,
    );
  }
  if (!isPlainObject(parsed.value)) throw fail('header is not a JSON object');
  return parsed.value;
}

function parseHeader(
  header: Record<string, unknown>,
  dataSize: number,
  fail: (problem: string) => InputError,
): { entries: RawEntry[]; metadata: Record<string, string> } {
  const entries: RawEntry[] = [];
  const metadata: Record<string, string> = Object.create(null);
  const names = Object.keys(header);
  if (names.length > MAX_TENSORS + 1) {
    throw fail(
      `header lists ${names.length} tensors, more than the ${MAX_TENSORS} dit-auditor reads from one file`,
    );
  }
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (info === null) continue;
      if (!isPlainObject(info)) throw fail('__metadata__ is not an object of strings');
      for (const [key, value] of Object.entries(info)) {
        if (typeof value !== 'string') throw fail(`__metadata__ entry ${quoteName(key)} is not a string`);
        metadata[key] = value;
      }
      continue;
    }
    entries.push(parseEntry(name, info, dataSize, fail));
  }
  checkNoOverlap(entries, fail);
  return { entries, metadata };
}

function parseEntry(
  name: string,
  info: unknown,
  dataSize: number,
  fail: (problem: string) => InputError,
): RawEntry {
  const tensor = `tensor ${quoteName(name)}`;
  if (!isPlainObject(info)) throw fail(`${tensor} is not an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') throw fail(`${tensor} has no dtype string`);
  if (!isDType(dtype)) {
    throw fail(
      `${tensor} has dtype ${quoteName(dtype)}, which dit-auditor does not support (only ${DTYPES.join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw fail(`${tensor} has a shape that is not an array of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every(isNonNegativeInteger) ||
    offsets[0] > offsets[1]
  ) {
    throw fail(`${tensor} has data_offsets that are not [begin, end] integers with begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataSize) {
    throw fail(`${tensor} ends at byte ${end} of the data section, which holds only ${dataSize} bytes`);
  }
  let elements = 1;
  for (const dim of shape as number[]) elements *= dim;
  const expected = elements * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(expected))
    throw fail(`${tensor} has an absurdly large shape ${formatShape(shape as number[])}`);
  if (expected !== end - begin) {
    throw fail(
      `${tensor} has ${end - begin} bytes but ${dtype} of shape ${formatShape(shape as number[])} needs ${expected}`,
    );
  }
  return { name, dtype, shape: Object.freeze([...(shape as number[])]), begin, end };
}

function checkNoOverlap(entries: readonly RawEntry[], fail: (problem: string) => InputError): void {
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      throw fail(
        `tensors ${quoteName(prev.name)} (bytes ${prev.begin}-${prev.end}) and ${quoteName(cur.name)} ` +
          `(bytes ${cur.begin}-${cur.end}) overlap`,
      );
    }
  }
}

function makeSource(
  file: string,
  dataStart: number,
  entries: readonly RawEntry[],
  metadata: Record<string, string>,
): SafetensorsFile {
  const refs = new Map<string, TensorRef>();
  for (const e of entries) {
    refs.set(
      e.name,
      Object.freeze({
        name: e.name,
        dtype: e.dtype,
        shape: e.shape,
        file,
        offset: dataStart + e.begin,
        byteLength: e.end - e.begin,
      }),
    );
  }
  return {
    path: file,
    files: [file],
    metadata: Object.freeze(metadata),
    get: (name) => refs.get(name),
    names: () => [...refs.keys()],
    readFloat32: async (name) => {
      const ref = refs.get(name);
      if (!ref) throw new InputError(`${file}: has no tensor named ${quoteName(name)}`);
      return readTensorFloat32(ref);
    },
  };
}

/** Reads the bytes behind `ref` from its file and converts them to float32. */
export async function readTensorFloat32(ref: TensorRef): Promise<Float32Array<ArrayBuffer>> {
  const fail = (problem: string) => new InputError(`${ref.file}: ${problem}`);
  const { handle } = await openRegularFile(ref.file, fail);
  try {
    const bytes = await readAt(handle, ref.offset, ref.byteLength, fail, `tensor ${quoteName(ref.name)}`);
    return toFloat32(ref.dtype, bytes);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Reads several tensors, in the order given: each file is opened once and neighbouring tensors are
 * read in one call (an adapter's hundreds of small factors cost a few reads, not an open per tensor).
 */
export async function readTensorsFloat32(refs: readonly TensorRef[]): Promise<Float32Array<ArrayBuffer>[]> {
  const out = new Array<Float32Array<ArrayBuffer>>(refs.length);
  const byFile = new Map<string, number[]>();
  refs.forEach((ref, i) => {
    const list = byFile.get(ref.file);
    if (list) list.push(i);
    else byFile.set(ref.file, [i]);
  });
  for (const [file, indices] of byFile) {
    const fail = (problem: string) => new InputError(`${file}: ${problem}`);
    indices.sort((a, b) => refs[a].offset - refs[b].offset);
    const { handle } = await openRegularFile(file, fail);
    try {
      for (let at = 0; at < indices.length; ) {
        const first = refs[indices[at]];
        const start = first.offset;
        let end = start + first.byteLength;
        let next = at + 1;
        for (; next < indices.length; next++) {
          const ref = refs[indices[next]];
          const reach = Math.max(end, ref.offset + ref.byteLength);
          if (ref.offset - end > COALESCE_GAP_BYTES || reach - start > COALESCE_MAX_BYTES) break;
          end = reach;
        }
        const last = refs[indices[next - 1]];
        const what =
          next - at === 1
            ? `tensor ${quoteName(first.name)}`
            : `tensors ${quoteName(first.name)} to ${quoteName(last.name)}`;
        const bytes = await readAt(handle, start, end - start, fail, what);
        for (let k = at; k < next; k++) {
          const ref = refs[indices[k]];
          const from = ref.offset - start;
          out[indices[k]] = toFloat32(ref.dtype, bytes.subarray(from, from + ref.byteLength));
        }
        at = next;
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
  return out;
}

async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
  fail: (problem: string) => InputError,
  what = 'the header',
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(
        bytes,
        done,
        Math.min(length - done, READ_CHUNK_BYTES),
        position + done,
      ));
    } catch (error) {
      throw fail(`cannot read ${what}: ${describeFsError(error)}`);
    }
    if (bytesRead === 0) {
      throw fail(
        `file ended at byte ${position + done} while reading ${what}; did it change after it was opened?`,
      );
    }
    done += bytesRead;
  }
  return bytes;
}

function formatShape(shape: readonly number[]): string {
  const dims = shape.length > 8 ? [...shape.slice(0, 8), `… (${shape.length} dims)`] : shape;
  return `[${dims.join(', ')}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
