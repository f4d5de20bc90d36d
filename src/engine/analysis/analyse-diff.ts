// What a diff does to the weights, without generation: its statistics and the trigger search's
// token prior. Only the checkpoint's tensors are read (no session), so a model served elsewhere
// (a remote audit) is analysed from its files here just as a warm session analyses its own.
import { InputError, type LoraAdapter, type TensorSource } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import { loadCheckpoint } from '../runtime/load-model';
import { checkAdapterFits } from '../runtime/lora-feeds';
import { type DiffStatisticsData, lowRankStatistics } from './diff-statistics';
import { analyseFullDiff } from './full-diff';
import { denseReaders, lowRankReaders, PRIOR_LAYERS, type TokenPrior, tokenPrior } from './token-prior';

export interface DiffAnalysis {
  readonly statistics: DiffStatisticsData;
  readonly prior: TokenPrior;
}

/** The model whose weights are read: its folder, options and tensors. */
export interface AnalysedModel {
  readonly dir: string;
  readonly options: ModelOptions;
  readonly tensors: TensorSource;
}

/**
 * `adapters`: the diff on `model`; none: `model` is a full finetune of `baseDir`. The prior keeps
 * the `priorTop` strongest tokens.
 */
export async function analyseDiff(
  model: AnalysedModel,
  adapters: readonly LoraAdapter[],
  baseDir: string | undefined,
  priorTop: number,
): Promise<DiffAnalysis> {
  const o = model.options;
  if (adapters.length > 0) {
    for (const a of adapters) checkAdapterFits(a, o);
    const statistics = await lowRankStatistics(adapters, o, model.tensors);
    const prior = await tokenPrior(lowRankReaders(adapters, PRIOR_LAYERS), o, model.tensors, priorTop);
    return { statistics, prior };
  }
  if (baseDir === undefined) throw new InputError('no diff to analyse: no adapters and no base model');
  const base = await loadCheckpoint(baseDir);
  if (JSON.stringify(base.options) !== JSON.stringify({ ...o, weightPrefix: base.options.weightPrefix })) {
    throw new InputError(`${model.dir} is not a finetune of ${baseDir}: their configs differ`);
  }
  const full = await analyseFullDiff(model.tensors, base.tensors, o, PRIOR_LAYERS);
  const prior = await tokenPrior(denseReaders(full.directions), o, model.tensors, priorTop);
  return { statistics: full.statistics, prior };
}

/** The same analysis from a model's files alone. */
export async function analyseDiffOfFiles(
  modelDir: string,
  adapters: readonly LoraAdapter[],
  baseDir: string | undefined,
  priorTop?: number,
): Promise<DiffAnalysis> {
  const model = await loadCheckpoint(modelDir);
  return analyseDiff(model, adapters, baseDir, priorTop ?? model.options.vocabSize);
}
