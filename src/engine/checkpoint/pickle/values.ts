// The values an unpickled file is made of: Python scalars, lists, tuples and dicts, and the few
// torch objects the allowlist can build.

import type { DType } from '../types';

export type PickleScalar = null | boolean | number | bigint | string | Uint8Array;

/** A tree of unpickled values whose non-container leaves are `L` (tensors, storages, ...). */
export type PickleTree<L> =
  | PickleScalar
  | L
  | PickleTree<L>[]
  | PickleTuple<L>
  | Map<PickleTree<L>, PickleTree<L>>;

/** A Python tuple (lists are plain arrays, dicts and OrderedDicts are Maps). */
export class PickleTuple<L = PickleLeaf> {
  constructor(readonly items: readonly PickleTree<L>[]) {}
}

/** A global from the allowlist that can be called by REDUCE / NEWOBJ. */
export class PickleCallable {
  constructor(
    readonly name: string,
    readonly call: (args: readonly PickleValue[], file: string) => PickleValue,
  ) {}
}

/** `torch.BFloat16Storage` and friends: only ever used as the type inside a persistent id. */
export class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: DType,
  ) {}
}

/** A storage named by a persistent id `("storage", type, key, location, numel)`; bytes live elsewhere. */
export class PickledStorage {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly location: string,
  ) {}
}

/** A tensor view from `torch._utils._rebuild_tensor_v2`, bounds already checked against its storage. */
export class PickledTensor {
  constructor(
    readonly storage: PickledStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

export type PickleLeaf = PickleCallable | StorageType | PickledStorage | PickledTensor;
export type PickleValue = PickleTree<PickleLeaf>;
export type PickleDict = Map<PickleValue, PickleValue>;
