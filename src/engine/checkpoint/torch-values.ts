// torch.save files as plain values: dicts are Maps, lists arrays, tuples PickleTuples, and every
// tensor float32. Forbidden globals and legacy files are refused before anything is unpickled.
import { DTYPE_BYTES, f16BitsToF32Bits } from './dtype';
import { openTorchFile, refuseLegacy, type TorchZip } from './torch-zip';
import { type DType, InputError } from './types';
import {
  forbiddenGlobalError,
  PickledTensor,
  type PickleTree,
  PickleTuple,
  type PickleValue,
  printable,
  unpickle,
} from './unpickler';
import { scanZipPickles } from './zip-pickles';

export class TorchTensor {
  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly data: Float32Array,
  ) {}
}

/** What a torch.save file holds: dicts are Maps, lists arrays, tuples PickleTuples, tensors float32. */
export type TorchObject = PickleTree<TorchTensor>;

/** Containers nest no deeper than this in any file worth reading; deeper is refused, not recursed. */
const MAX_DEPTH = 64;
/** Longest dotted path to a tensor (module names are tens of characters). */
const MAX_NAME = 512;
/** Overlapping views are fine up to twice their storages' size, plus this many elements. */
const MAX_VIEW_SLACK = 1 << 20;

/** Opens a zip, refuses forbidden globals (and legacy files), and unpickles without reading storages. */
export async function readTree<T>(
  path: string,
  use: (zip: TorchZip, root: PickleValue) => Promise<T>,
): Promise<T> {
  const file = await openTorchFile(path);
  if (file.format === 'legacy') refuseLegacy(file);
  if (file.format === 'foreign-zip') {
    const scan = scanZipPickles(path, undefined, file.otherPickles);
    if (scan.forbidden.length > 0) throw forbiddenGlobalError(path, scan.forbidden[0]);
    throw new InputError(file.problem);
  }
  try {
    const scan = scanZipPickles(path, file.pickle, file.otherPickles);
    if (scan.forbidden.length > 0) throw forbiddenGlobalError(path, scan.forbidden[0]);
    return await use(file, unpickle(file.pickle, path));
  } finally {
    file.close();
  }
}

/** Loads a torch.save zip into plain values, every tensor converted to float32. */
export function loadTorchFile(path: string): Promise<TorchObject> {
  return readTree(path, async (zip, root) => {
    const tensors = await readTensors(
      zip,
      collectTensors(root, path).map(([, t]) => t),
    );
    return convert(root, tensors, path);
  });
}

/**
 * Reads each storage once, cuts every tensor that uses it out of it, and lets it go. Views may
 * share storages; the copies they become may not add up to much more than the storages themselves.
 */
export async function readTensors(
  zip: TorchZip,
  tensors: readonly PickledTensor[],
): Promise<Map<PickledTensor, TorchTensor>> {
  const byStorage = new Map<string, PickledTensor[]>();
  let storageElements = 0;
  let tensorElements = 0;
  for (const t of tensors) {
    const id = `${t.storage.key}/${t.storage.dtype}`;
    const group = byStorage.get(id);
    if (group === undefined) {
      byStorage.set(id, [t]);
      storageElements += t.storage.numel;
    } else if (group[0].storage.numel !== t.storage.numel) {
      throw new InputError(`cannot read ${zip.path}: storage ${t.storage.key} is declared with two sizes`);
    } else group.push(t);
    tensorElements += t.shape.reduce((a, b) => a * b, 1);
  }
  if (tensorElements > 2 * storageElements + MAX_VIEW_SLACK) {
    throw new InputError(
      `cannot read ${zip.path}: its tensors overlap their storages ${tensorElements} elements' worth`,
    );
  }
  const out = new Map<PickledTensor, TorchTensor>();
  for (const group of byStorage.values()) {
    const bytes = await zip.readStorage(group[0].storage);
    for (const t of group) out.set(t, new TorchTensor(t.storage.dtype, t.shape, gather(bytes, t)));
  }
  return out;
}

/** Copies a strided view out of its storage, converting each element to float32 (bit-exact for bf16). */
function gather(bytes: Uint8Array, t: PickledTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const size = DTYPE_BYTES[t.storage.dtype];
  const put: (i: number, at: number) => void =
    t.storage.dtype === 'BF16'
      ? (i, at) => {
          bits[i] = view.getUint16(at, true) << 16;
        }
      : t.storage.dtype === 'F16'
        ? (i, at) => {
            bits[i] = f16BitsToF32Bits(view.getUint16(at, true));
          }
        : (i, at) => {
            bits[i] = view.getUint32(at, true);
          };
  const dims = t.shape.length;
  const index = new Array<number>(dims).fill(0);
  let src = t.offset;
  for (let i = 0; i < n; i++) {
    put(i, src * size);
    for (let d = dims - 1; d >= 0; d--) {
      src += t.stride[d];
      if (++index[d] < t.shape[d]) break;
      src -= t.stride[d] * t.shape[d];
      index[d] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Walking the unpickled tree (it may share nodes or even hold cycles: both are visited once)

function children(v: PickleValue): [string, PickleValue][] {
  if (Array.isArray(v)) return v.map((c, i) => [String(i), c]);
  if (v instanceof PickleTuple) return v.items.map((c, i) => [String(i), c]);
  if (v instanceof Map) return [...v].map(([k, c]) => [keyName(k), c]);
  return [];
}

function keyName(k: PickleValue): string {
  return typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' ? String(k) : '?';
}

/**
 * Every tensor reachable from `root`, each once, with the dotted path it was first found at. The
 * path is spelled only for a tensor, and refused past MAX_NAME: a long key shared through the memo
 * at every level would otherwise make a string longer than V8 allows.
 */
export function collectTensors(root: PickleValue, file: string): [string, PickledTensor][] {
  const found: [string, PickledTensor][] = [];
  const seen = new Set<object>();
  const path: string[] = [];
  let pathLength = 0;
  const visit = (v: PickleValue, depth: number): void => {
    if (depth > MAX_DEPTH) throw new InputError(`cannot read ${file}: values nest too deeply`);
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof PickledTensor) {
      if (pathLength + path.length > MAX_NAME) {
        throw new InputError(
          `cannot read ${file}: a tensor's key path is longer than ${MAX_NAME} characters`,
        );
      }
      found.push([path.join('.'), v]);
    }
    for (const [key, child] of children(v)) {
      path.push(key);
      pathLength += key.length;
      visit(child, depth + 1);
      path.pop();
      pathLength -= key.length;
    }
  };
  visit(root, 0);
  return found;
}

function convert(
  root: PickleValue,
  tensors: ReadonlyMap<PickledTensor, TorchTensor>,
  file: string,
): TorchObject {
  const done = new Map<object, TorchObject>();
  const visit = (v: PickleValue, depth: number): TorchObject => {
    if (depth > MAX_DEPTH) throw new InputError(`cannot read ${file}: values nest too deeply`);
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
    const prior = done.get(v);
    if (prior !== undefined) return prior;
    if (v instanceof PickledTensor) return tensors.get(v) as TorchTensor;
    if (Array.isArray(v)) {
      const out: TorchObject[] = [];
      done.set(v, out);
      for (const c of v) out.push(visit(c, depth + 1));
      return out;
    }
    if (v instanceof Map) {
      const out = new Map<TorchObject, TorchObject>();
      done.set(v, out);
      for (const [k, c] of v) out.set(visit(k, depth + 1), visit(c, depth + 1));
      return out;
    }
    if (v instanceof PickleTuple) {
      // A tuple that contains itself cannot be built in Python either; a placeholder breaks the loop.
      done.set(v, null);
      const out = new PickleTuple<TorchTensor>(v.items.map((c) => visit(c, depth + 1)));
      done.set(v, out);
      return out;
    }
    const what = 'name' in v ? printable(v.name) : 'a bare storage';
    throw new InputError(`cannot read ${file}: it holds ${what}, not data`);
  };
  return visit(root, 0);
}
