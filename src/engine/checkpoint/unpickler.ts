// A pickle reader that cannot run code: every GLOBAL resolves through ALLOWLIST to a pure TypeScript
// function, anything else is refused by name at the GLOBAL opcode itself. No blocklist anywhere.
// The parts live in ./pickle/; this is what the rest of the project imports.

export { allowedGlobals, forbiddenGlobalError, isAllowedGlobal } from './pickle/allowlist';
export { printable } from './pickle/errors';
export { MAX_OPS } from './pickle/limits';
export { unpickle } from './pickle/machine';
export { listPickleGlobals, type PickleScan, scanPickle } from './pickle/scan';
export {
  PickleCallable,
  type PickleDict,
  PickledStorage,
  PickledTensor,
  type PickleLeaf,
  type PickleScalar,
  type PickleTree,
  PickleTuple,
  type PickleValue,
  StorageType,
} from './pickle/values';
