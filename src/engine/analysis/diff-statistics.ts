// Weight statistics of a diff, computed without generation: per layer and module its Frobenius
// norm, its norm relative to the base weight, its effective rank and top singular values (on the
// low-rank factors; for a full finetune on `finetuned − base`, see full-diff.ts).
import { factorsByModule, stackFactors } from '../checkpoint/lora-stack';
import { tensorNames } from '../checkpoint/tensor-names';
import type { LinearModule, LoraAdapter, TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { effectiveRank, frobeniusFromSingular, lowRankSingularValues } from './low-rank';

export const TOP_SINGULAR_VALUES = 4;

export interface ModuleStatistics {
  readonly layer: number;
  readonly module: LinearModule;
  readonly rank: number;
  readonly frobeniusNorm: number;
  /** ‖ΔW‖ / ‖W‖ of the base weight. */
  readonly relativeNorm: number;
  readonly effectiveRank: number;
  /** The largest singular values, largest first (at most TOP_SINGULAR_VALUES). */
  readonly topSingularValues: number[];
}

export interface DiffStatisticsData {
  readonly source: 'low-rank' | 'full';
  readonly layers: number;
  readonly cells: ModuleStatistics[];
}

/** Statistics of the stacked adapters as one diff (the sum of their updates per module). */
export async function lowRankStatistics(
  adapters: readonly LoraAdapter[],
  o: ModelOptions,
  base: TensorSource,
): Promise<DiffStatisticsData> {
  const names = tensorNames(o.weightPrefix);
  const byModule = factorsByModule(adapters);
  const cells: ModuleStatistics[] = [];
  for (const [, factors] of [...byModule].sort(([x], [y]) => order(x) - order(y))) {
    const { layer, module, inFeatures, outFeatures } = factors[0];
    const { A, B, rank } = stackFactors(factors, inFeatures, outFeatures);
    const singular = lowRankSingularValues(A, B, rank, inFeatures, outFeatures, 1);
    const norm = frobeniusFromSingular(singular);
    const weight = await base.readFloat32(names.linear(layer, module).weight);
    cells.push({
      layer,
      module,
      rank,
      frobeniusNorm: norm,
      relativeNorm: norm / (l2(weight) || 1),
      effectiveRank: effectiveRank(singular),
      topSingularValues: singular.slice(0, TOP_SINGULAR_VALUES),
    });
  }
  return { source: 'low-rank', layers: o.numLayers, cells };
}

const MODULE_ORDER = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
function order(key: string): number {
  const [layer, module] = key.split('.');
  return Number(layer) * 10 + MODULE_ORDER.indexOf(module);
}

export function l2(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}
