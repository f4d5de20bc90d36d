// The pure TypeScript stand-ins for the allowlisted callables, and torch's persistent storage ids.
// Each checks its arguments and the bounds of what it builds.

import { malformed } from './errors';
import { MAX_DIMS, MAX_ELEMENTS } from './limits';
import {
  type PickleDict,
  PickledStorage,
  PickledTensor,
  PickleTuple,
  type PickleValue,
  StorageType,
} from './values';

export function orderedDict(args: readonly PickleValue[], file: string): PickleValue {
  const out: PickleDict = new Map();
  if (args.length === 0) return out;
  const items = args.length === 1 ? sequenceItems(args[0]) : undefined;
  if (items === undefined)
    throw malformed(file, 'collections.OrderedDict takes no arguments or a list of pairs');
  for (const item of items) {
    const pair = sequenceItems(item);
    if (pair?.length !== 2) throw malformed(file, 'collections.OrderedDict takes a list of pairs');
    out.set(pair[0], pair[1]);
  }
  return out;
}

export function rebuildTensorV2(args: readonly PickleValue[], file: string): PickleValue {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (args.length < 4 || args.length > 7) throw malformed(file, '_rebuild_tensor_v2 takes 6 or 7 arguments');
  const storage = args[0];
  if (!(storage instanceof PickledStorage)) throw malformed(file, '_rebuild_tensor_v2 needs a storage');
  const offset = indexValue(args[1], 'storage offset', file);
  const shape = indexTuple(args[2], 'size', file);
  const stride = indexTuple(args[3], 'stride', file);
  if (shape.length !== stride.length) throw malformed(file, 'tensor size and stride differ in length');
  let numel = 1;
  let last = offset;
  for (let i = 0; i < shape.length; i++) {
    numel *= shape[i];
    last += Math.max(shape[i] - 1, 0) * stride[i];
    if (numel > MAX_ELEMENTS || last > MAX_ELEMENTS) throw malformed(file, 'tensor is too large');
  }
  if (offset > storage.numel || (numel > 0 && last >= storage.numel)) {
    throw malformed(file, `a tensor view reaches past the end of storage ${storage.key}`);
  }
  if (numel > storage.numel) {
    throw malformed(
      file,
      `a tensor has more elements than storage ${storage.key} (broadcast views are not supported)`,
    );
  }
  return new PickledTensor(storage, offset, shape, stride);
}

export function rebuildParameter(args: readonly PickleValue[], file: string): PickleValue {
  // (data, requires_grad, backward_hooks): a Parameter is its tensor here.
  if (args.length !== 3 || !(args[0] instanceof PickledTensor)) {
    throw malformed(file, '_rebuild_parameter takes (tensor, requires_grad, hooks)');
  }
  return args[0];
}

/** `("storage", StorageType, key, location, numel)` is the only persistent id torch.save writes. */
export function persistentStorage(pid: PickleValue, file: string): PickledStorage {
  const items = pid instanceof PickleTuple ? pid.items : undefined;
  if (items?.length !== 5 || items[0] !== 'storage') {
    throw malformed(file, 'a persistent id is not ("storage", type, key, location, numel)');
  }
  const [, type, key, location, numel] = items;
  if (!(type instanceof StorageType)) throw malformed(file, 'a persistent id names no storage type');
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(key)) {
    throw malformed(file, 'a storage key is not a plain name');
  }
  if (typeof location !== 'string') throw malformed(file, 'a storage location is not a string');
  return new PickledStorage(key, type.dtype, indexValue(numel, 'storage size', file), location);
}

function sequenceItems(value: PickleValue): readonly PickleValue[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof PickleTuple) return value.items;
  return undefined;
}

function indexValue(value: PickleValue, what: string, file: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ELEMENTS) {
    throw malformed(file, `${what} is not a non-negative integer`);
  }
  return value;
}

function indexTuple(value: PickleValue, what: string, file: string): number[] {
  const items = sequenceItems(value);
  if (items === undefined || items.length > MAX_DIMS) throw malformed(file, `tensor ${what} is not a tuple`);
  return items.map((v) => indexValue(v, `tensor ${what}`, file));
}
