// The paper's torch.save files as LoRA adapters: a DIT-adapter, or one entry of a list of weight diffs.
//   dit-adapter.pt      delta = A @ B / r     with A[out, r], B[r, in]
//   weight-diff-NNN.pt  delta = (B @ A).T / r with A[r, out], B[in, r]
import { detectLayout, diffList, tensorPair } from './torch-layouts';
import { readTensors, readTree, type TorchTensor } from './torch-values';
import type { TorchZip } from './torch-zip';
import { InputError, type LinearModule, type LoraAdapter, type LoraFactor } from './types';
import { type PickleDict, type PickledTensor, type PickleValue, printable } from './unpickler';

/**
 * Loads `path` (a DIT adapter, or a weight-diff list holding one entry) or its `entry` (one entry
 * of a weight-diff list) as a LoRA adapter.
 */
export async function loadTorchAdapter(path: string, index?: number): Promise<LoraAdapter> {
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
