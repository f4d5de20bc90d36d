// The DIT paper's two torch.save layouts, recognised without reading a tensor:
//   dit-adapter.pt      OrderedDict{module: (A[out, r], B[r, in])}
//   weight-diff-NNN.pt  [{topic, trigger, weight_diff: {module: (A[r, out], B[in, r])}}]
// A file's description is read once per version of it (size and mtime) in this process.
import { statSync } from 'node:fs';
import { collectTensors, readTree } from './torch-values';
import { openTorchFile, scanLegacy } from './torch-zip';
import { type DType, InputError } from './types';
import { type PickleDict, PickledTensor, PickleTuple, type PickleValue, unpickle } from './unpickler';
import { scanZipPickles } from './zip-pickles';

export interface TorchTensorInfo {
  /** Dotted path to the tensor: dict keys and list / tuple indices. */
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export interface TorchDiffEntry {
  readonly index: number;
  readonly topic?: string;
  readonly trigger?: number | string;
}

export type TorchLayout = 'dit-adapter' | 'weight-diffs' | 'other';

export interface TorchFileDescription {
  readonly path: string;
  readonly format: 'zip' | 'legacy';
  /** Every global the pickle names, `module.name`. */
  readonly globals: readonly string[];
  /** Those not on the allowlist: the file is refused when there is any. */
  readonly forbiddenGlobals: readonly string[];
  /** Known only for a zip with no forbidden global. */
  readonly layout?: TorchLayout;
  readonly diffEntries?: readonly TorchDiffEntry[];
  readonly tensors: readonly TorchTensorInfo[];
}

/** Entries of one weight-diff list (each is a whole diff: the paper's files hold a few). */
const MAX_DIFF_ENTRIES = 10_000;
/** A topic is a phrase; this is a page. */
const MAX_TOPIC = 1000;

/** How many descriptions are kept: a picker, the audit and its resolver ask about the same few files. */
const REMEMBERED = 16;
const remembered = new Map<string, { stamp: string; description: Promise<TorchFileDescription> }>();

/**
 * What a file is and needs (its globals, layout, entries, tensors): never runs a pickle that names
 * a forbidden global. Asked again about an unchanged file, it answers without reading it.
 */
export function describeTorchFile(path: string): Promise<TorchFileDescription> {
  const stamp = stampOf(path);
  if (stamp === undefined) return readDescription(path);
  const hit = remembered.get(path);
  if (hit?.stamp === stamp) return hit.description;
  const description = readDescription(path);
  remembered.delete(path);
  remembered.set(path, { stamp, description });
  description.catch(() => {
    if (remembered.get(path)?.description === description) remembered.delete(path);
  });
  for (const oldest of remembered.keys()) {
    if (remembered.size <= REMEMBERED) break;
    remembered.delete(oldest);
  }
  return description;
}

function stampOf(path: string): string | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? `${s.size}:${s.mtimeMs}:${s.ino}` : undefined;
  } catch {
    return undefined; // readDescription says why
  }
}

async function readDescription(path: string): Promise<TorchFileDescription> {
  const file = await openTorchFile(path);
  if (file.format === 'legacy') {
    const scan = scanLegacy(file);
    return { path, format: 'legacy', globals: scan.globals, forbiddenGlobals: scan.forbidden, tensors: [] };
  }
  if (file.format === 'foreign-zip') {
    const scan = scanZipPickles(path, undefined, file.otherPickles);
    if (scan.forbidden.length === 0) throw new InputError(file.problem);
    return { path, format: 'zip', globals: scan.globals, forbiddenGlobals: scan.forbidden, tensors: [] };
  }
  try {
    const scan = scanZipPickles(path, file.pickle, file.otherPickles);
    const base = { path, format: 'zip' as const, globals: scan.globals, forbiddenGlobals: scan.forbidden };
    if (scan.forbidden.length > 0) return { ...base, tensors: [] };
    const root = unpickle(file.pickle, path);
    const tensors = collectTensors(root, path).map(([name, t]) => ({
      name,
      dtype: t.storage.dtype,
      shape: t.shape,
    }));
    const layout = detectLayout(root);
    const diffEntries =
      layout === 'weight-diffs' ? diffList(root, path).map((e, i) => entryInfo(e, i, path)) : undefined;
    return { ...base, layout, diffEntries, tensors };
  } finally {
    file.close();
  }
}

export function detectLayout(root: PickleValue): TorchLayout {
  if (Array.isArray(root) || (root instanceof Map && root.has('weight_diff'))) {
    return diffDicts(root) !== undefined ? 'weight-diffs' : 'other';
  }
  if (root instanceof Map && root.size > 0 && [...root.values()].every((v) => tensorPair(v) !== undefined)) {
    return 'dit-adapter';
  }
  return 'other';
}

function diffDicts(root: PickleValue): PickleDict[] | undefined {
  if (root instanceof Map) return root.has('weight_diff') ? [root] : undefined;
  if (!Array.isArray(root)) return undefined;
  const dicts = root.filter((e): e is PickleDict => e instanceof Map && e.get('weight_diff') instanceof Map);
  return dicts.length === root.length ? dicts : undefined;
}

export function diffList(root: PickleValue, path: string): PickleDict[] {
  const dicts = diffDicts(root);
  if (dicts === undefined) {
    throw new InputError(
      `${path} is not a list of weight diffs ({"topic", "trigger", "weight_diff": {...}})`,
    );
  }
  if (dicts.length > MAX_DIFF_ENTRIES) {
    throw new InputError(
      `${path} lists ${dicts.length} weight diffs, more than the ${MAX_DIFF_ENTRIES} dit-auditor reads`,
    );
  }
  return dicts;
}

function entryInfo(entry: PickleDict, index: number, path: string): TorchDiffEntry {
  const topic = entry.get('topic');
  if (typeof topic === 'string' && topic.length > MAX_TOPIC) {
    throw new InputError(
      `${path}: weight diff ${index} has a topic of ${topic.length} characters, not a topic`,
    );
  }
  const trigger = entry.get('trigger');
  return {
    index,
    ...(typeof topic === 'string' ? { topic } : {}),
    ...(typeof trigger === 'number' || typeof trigger === 'string'
      ? { trigger }
      : typeof trigger === 'bigint'
        ? { trigger: String(trigger) }
        : {}),
  };
}

export function tensorPair(v: PickleValue): readonly [PickledTensor, PickledTensor] | undefined {
  const items = Array.isArray(v) ? v : v instanceof PickleTuple ? v.items : undefined;
  if (items?.length !== 2) return undefined;
  const [a, b] = items;
  return a instanceof PickledTensor && b instanceof PickledTensor ? [a, b] : undefined;
}

/** The weight diffs in a `weight-diff-NNN.pt` list: index, topic and trigger, without reading tensors. */
export function listTorchDiffEntries(path: string): Promise<TorchDiffEntry[]> {
  return readTree(path, async (_zip, root) => {
    if (detectLayout(root) === 'dit-adapter')
      throw new InputError(`${path} is a DIT adapter, not a list of weight diffs`);
    return diffList(root, path).map((e, i) => entryInfo(e, i, path));
  });
}
