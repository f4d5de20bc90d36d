// Weight statistics of a diff, computed without generation: per layer and module its Frobenius
// norm, its norm relative to the base weight, its effective rank and top singular values (on the
// low-rank factors; for a full finetune on `finetuned − base`, see full-diff.ts).
import { factorsByModule, stackFactors } from '../checkpoint/lora-stack';
import { tensorNames } from '../checkpoint/tensor-names';
import type { LinearModule, LoraAdapter, TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { effectiveRank, frobeniusFromSingular, lowRankSingularValues } from './low-rank';
import { weightNorms } from './weight-norms';

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
  const byModule = [...factorsByModule(adapters)]
    .sort(([x], [y]) => order(x) - order(y))
    .map(([, factors]) => factors);
  const weightOf = (f: LoraAdapter['factors'][number]) => names.linear(f.layer, f.module).weight;
  const norms = await weightNorms(
    base,
    byModule.map((factors) => weightOf(factors[0])),
  );
  const cells: ModuleStatistics[] = [];
  for (const factors of byModule) {
    const { layer, module, inFeatures, outFeatures } = factors[0];
    const { A, B, rank } = stackFactors(factors, inFeatures, outFeatures);
    const singular = lowRankSingularValues(A, B, rank, inFeatures, outFeatures, 1);
    const norm = frobeniusFromSingular(singular);
    cells.push({
      layer,
      module,
      rank,
      frobeniusNorm: norm,
      relativeNorm: norm / (norms.get(weightOf(factors[0])) || 1),
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
