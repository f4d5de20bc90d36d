// torch.save files as values (tensors in float32), and the DIT paper's two layouts as LoRA adapters:
//   dit-adapter.pt      OrderedDict{module: (A[out, r], B[r, in])},                delta = A @ B / r
//   weight-diff-NNN.pt  [{topic, trigger, weight_diff: {module: (A[r, out], B[in, r])}}], delta = (B @ A).T / r

import { DTYPE_BYTES, f16BitsToF32Bits } from './dtype';
import { openTorchFile, refuseLegacy, scanLegacy, type TorchZip } from './torch-zip';
import { type DType, InputError, type LinearModule, type LoraAdapter, type LoraFactor } from './types';
import {
  forbiddenGlobalError,
  type PickleDict,
  PickledTensor,
  type PickleTree,
  PickleTuple,
  type PickleValue,
  printable,
  scanPickle,
  unpickle,
} from './unpickler';

export class TorchTensor {
  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly data: Float32Array,
  ) {}
}

/** What a torch.save file holds: dicts are Maps, lists arrays, tuples PickleTuples, tensors float32. */
export type TorchObject = PickleTree<TorchTensor>;

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

/** Containers nest no deeper than this in any file worth reading; deeper is refused, not recursed. */
const MAX_DEPTH = 64;
/** Overlapping views are fine up to twice their storages' size, plus this many elements. */
const MAX_VIEW_SLACK = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Reading

/** Opens a zip, refuses forbidden globals (and legacy files), and unpickles without reading storages. */
async function readTree<T>(path: string, use: (zip: TorchZip, root: PickleValue) => Promise<T>): Promise<T> {
  const file = await openTorchFile(path);
  if (file.format === 'legacy') refuseLegacy(file);
  try {
    const scan = scanPickle(file.pickle, path);
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

/** What a file is and needs, for `dit-audit inspect`: never runs a pickle that names a forbidden global. */
export async function describeTorchFile(path: string): Promise<TorchFileDescription> {
  const file = await openTorchFile(path);
  if (file.format === 'legacy') {
    const scan = scanLegacy(file);
    return { path, format: 'legacy', globals: scan.globals, forbiddenGlobals: scan.forbidden, tensors: [] };
  }
  try {
    const scan = scanPickle(file.pickle, path);
    const base = { path, format: 'zip' as const, globals: scan.globals, forbiddenGlobals: scan.forbidden };
    if (scan.forbidden.length > 0) return { ...base, tensors: [] };
    const root = unpickle(file.pickle, path);
    const tensors = collectTensors(root, path).map(([name, t]) => ({
      name,
      dtype: t.storage.dtype,
      shape: t.shape,
    }));
    const layout = detectLayout(root);
    const diffEntries = layout === 'weight-diffs' ? diffList(root, path).map(entryInfo) : undefined;
    return { ...base, layout, diffEntries, tensors };
  } finally {
    file.close();
  }
}

/**
 * Reads each storage once, cuts every tensor that uses it out of it, and lets it go. Views may
 * share storages; the copies they become may not add up to much more than the storages themselves.
 */
async function readTensors(
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

/** Every tensor reachable from `root`, each once, with the dotted path it was first found at. */
function collectTensors(root: PickleValue, file: string): [string, PickledTensor][] {
  const found: [string, PickledTensor][] = [];
  const seen = new Set<object>();
  const visit = (v: PickleValue, name: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw new InputError(`cannot read ${file}: values nest too deeply`);
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof PickledTensor) found.push([name, v]);
    for (const [key, child] of children(v)) visit(child, name === '' ? key : `${name}.${key}`, depth + 1);
  };
  visit(root, '', 0);
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

// ---------------------------------------------------------------------------------------------
// The paper's layouts

function detectLayout(root: PickleValue): TorchLayout {
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

function diffList(root: PickleValue, path: string): PickleDict[] {
  const dicts = diffDicts(root);
  if (dicts === undefined) {
    throw new InputError(
      `${path} is not a list of weight diffs ({"topic", "trigger", "weight_diff": {...}})`,
    );
  }
  return dicts;
}

function entryInfo(entry: PickleDict, index: number): TorchDiffEntry {
  const topic = entry.get('topic');
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

function tensorPair(v: PickleValue): readonly [PickledTensor, PickledTensor] | undefined {
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
    return diffList(root, path).map(entryInfo);
  });
}

/**
 * Loads `path` (a DIT adapter, or a weight-diff list holding one entry) or `path#INDEX` (one entry
 * of a weight-diff list) as a LoRA adapter.
 */
export async function loadTorchAdapter(spec: string): Promise<LoraAdapter> {
  const m = /^(.+)#([^#]*)$/.exec(spec);
  const path = m === null ? spec : m[1];
  if (m !== null && !/^\d{1,9}$/.test(m[2])) {
    throw new InputError(`${printable(spec)}: the INDEX in FILE#INDEX must be a whole number`);
  }
  const index = m === null ? undefined : Number(m[2]);
  return readTree(path, async (zip, root) => {
    const layout = detectLayout(root);
    if (layout === 'dit-adapter') {
      if (index !== undefined) {
        throw new InputError(
          `${path} is a single DIT adapter, not a list of weight diffs: drop the #${index}`,
        );
      }
      return { source: path, factors: await readFactors(zip, root as PickleDict, 'dit-adapter', path) };
    }
    const entries = diffList(root, path);
    const n = entries.length;
    if (n === 0) throw new InputError(`${path} holds no weight diffs`);
    if (index === undefined && n > 1) {
      throw new InputError(
        `${path} holds ${n} weight diffs: pick one as ${path}#INDEX, INDEX from 0 to ${n - 1}`,
      );
    }
    const i = index ?? 0;
    if (i >= n) throw new InputError(`${path}#${i}: no such entry (${path} holds ${n}, #0 to #${n - 1})`);
    const entry = entries[i];
    const source = `${path}#${i}`;
    const diff = entry.get('weight_diff') as PickleDict;
    return {
      source,
      factors: await readFactors(zip, diff, 'weight-diff', source),
      metadata: scalarFields(entry),
    };
  });
}

function scalarFields(entry: PickleDict): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of entry) {
    if (typeof k !== 'string' || k === 'weight_diff') continue;
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (typeof v === 'bigint') out[k] = String(v);
  }
  return out;
}

const MODULE_KEY =
  /^(?:model\.|language_model\.model\.|model\.language_model\.)?layers\.(\d{1,5})\.(self_attn|mlp)\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$/;
const ATTENTION = new Set(['q_proj', 'k_proj', 'v_proj', 'o_proj']);

function parseModuleKey(key: PickleValue, source: string): { layer: number; module: LinearModule } {
  const m = typeof key === 'string' ? MODULE_KEY.exec(key) : null;
  if (m === null || ATTENTION.has(m[3]) !== (m[2] === 'self_attn')) {
    throw new InputError(
      `${source}: module ${printable(String(key))} is not layers.{i}.{self_attn|mlp}.{q,k,v,o,gate,up,down}_proj`,
    );
  }
  return { layer: Number(m[1]), module: m[3] as LinearModule };
}

async function readFactors(
  zip: TorchZip,
  modules: PickleDict,
  layout: 'dit-adapter' | 'weight-diff',
  source: string,
): Promise<LoraFactor[]> {
  if (modules.size === 0) throw new InputError(`${source} holds no modules`);
  const seen = new Set<string>();
  const planned: {
    layer: number;
    module: LinearModule;
    a: PickledTensor;
    b: PickledTensor;
    dims: number[];
  }[] = [];
  for (const [key, value] of modules) {
    const { layer, module } = parseModuleKey(key, source);
    const id = `${layer}.${module}`;
    if (seen.has(id)) throw new InputError(`${source}: layer ${layer} ${module} appears twice`);
    seen.add(id);
    const pair = tensorPair(value);
    if (pair === undefined)
      throw new InputError(`${source}: ${printable(String(key))} is not a pair of tensors (A, B)`);
    const [a, b] = pair;
    const shapes = `A ${JSON.stringify(a.shape)}, B ${JSON.stringify(b.shape)}`;
    if (a.shape.length !== 2 || b.shape.length !== 2)
      throw new InputError(`${source}: ${key}: ${shapes} are not matrices`);
    // dit-adapter: A[out, r], B[r, in]; weight-diff: A[r, out], B[in, r]
    const dims =
      layout === 'dit-adapter'
        ? [a.shape[1], a.shape[0], b.shape[1], b.shape[0]]
        : [a.shape[0], a.shape[1], b.shape[0], b.shape[1]];
    const [rank, outFeatures, inFeatures, rankOfB] = dims;
    if (rank === 0 || rank !== rankOfB || outFeatures === 0 || inFeatures === 0) {
      throw new InputError(`${source}: ${key}: ${shapes} do not make a ${layout} low-rank pair`);
    }
    planned.push({ layer, module, a, b, dims });
  }
  const tensors = await readTensors(
    zip,
    planned.flatMap((p) => [p.a, p.b]),
  );
  return planned.map(({ layer, module, a, b, dims: [rank, outFeatures, inFeatures] }): LoraFactor => {
    const dataA = (tensors.get(a) as TorchTensor).data;
    const dataB = (tensors.get(b) as TorchTensor).data;
    return {
      layer,
      module,
      rank,
      inFeatures,
      outFeatures,
      A: layout === 'dit-adapter' ? dataB : transpose(dataB, inFeatures, rank),
      B: layout === 'dit-adapter' ? dataA : transpose(dataA, rank, outFeatures),
      scale: 1 / rank,
    };
  });
}

/** [rows, cols] row-major → [cols, rows] row-major. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
