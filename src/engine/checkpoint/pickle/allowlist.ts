// The allowlist: the only globals a pickle may name, each mapped to a pure TypeScript value.
// Anything else is refused by name. No blocklist anywhere.

import { type DType, InputError } from '../types';
import { printable } from './errors';
import { orderedDict, rebuildParameter, rebuildTensorV2 } from './rebuild';
import { PickleCallable, type PickleLeaf, StorageType } from './values';

const STORAGE_DTYPES: readonly (readonly [string, DType])[] = [
  ['BFloat16Storage', 'BF16'],
  ['HalfStorage', 'F16'],
  ['FloatStorage', 'F32'],
];

const ALLOWLIST: ReadonlyMap<string, PickleLeaf> = new Map<string, PickleLeaf>([
  [globalKey('collections', 'OrderedDict'), new PickleCallable('collections.OrderedDict', orderedDict)],
  [
    globalKey('torch._utils', '_rebuild_tensor_v2'),
    new PickleCallable('torch._utils._rebuild_tensor_v2', rebuildTensorV2),
  ],
  [
    globalKey('torch._utils', '_rebuild_parameter'),
    new PickleCallable('torch._utils._rebuild_parameter', rebuildParameter),
  ],
  ...STORAGE_DTYPES.map(
    ([name, dtype]) => [globalKey('torch', name), new StorageType(`torch.${name}`, dtype)] as const,
  ),
]);

// '\n' cannot occur inside a GLOBAL line, so (module, name) pairs never collide.
function globalKey(module: string, name: string): string {
  return `${module}\n${name}`;
}

export function isAllowedGlobal(module: string, name: string): boolean {
  return ALLOWLIST.has(globalKey(module, name));
}

/** The names on the allowlist, `module.name`, for messages and docs. */
export function allowedGlobals(): string[] {
  return [...ALLOWLIST.keys()].map((k) => k.replace('\n', '.'));
}

export function forbiddenGlobalError(file: string, qualifiedName: string): InputError {
  return new InputError(
    `refusing to load ${file}: it needs the global ${printable(qualifiedName)}, which is not on the allowlist`,
  );
}

export function resolveGlobal(module: string, name: string, file: string): PickleLeaf {
  const found = ALLOWLIST.get(globalKey(module, name));
  if (found === undefined) throw forbiddenGlobalError(file, `${module}.${name}`);
  return found;
}
