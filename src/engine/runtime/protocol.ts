// Messages between the engine client (any thread) and the inference worker.
import type { DiffStatisticsData } from '../analysis/diff-statistics';
import type { TokenPrior } from '../analysis/token-prior';
import type { CheckpointRef } from '../checkpoint/reference';
import type { ModelInfo, OpenOptions } from './model-host';

export type Request =
  | { type: 'open'; dir: string; options: OpenOptions }
  | { type: 'setAdapters'; model: number; refs: CheckpointRef[] }
  | { type: 'newSequence'; model: number; capacity: number }
  | { type: 'dropSequence'; model: number; sequence: number }
  | { type: 'append'; model: number; sequence: number; tokens: number[]; allRows: boolean }
  | { type: 'lastLogits'; model: number; rows: number[][] }
  | { type: 'analyseDiff'; model: number; refs: CheckpointRef[]; baseDir?: string; priorTop: number }
  | { type: 'analyseFiles'; modelDir: string; refs: CheckpointRef[]; baseDir?: string }
  | { type: 'close'; model: number };

export interface AdapterSummary {
  source: string;
  factors: number;
  maxRank: number;
  metadata?: Record<string, string | number>;
}

export type ResultOf<R extends Request['type']> = R extends 'open'
  ? { model: number; info: ModelInfo }
  : R extends 'setAdapters'
    ? { adapters: AdapterSummary[]; ms: number }
    : R extends 'newSequence'
      ? { sequence: number }
      : R extends 'append' | 'lastLogits'
        ? { logits: Float32Array }
        : R extends 'analyseDiff' | 'analyseFiles'
          ? { statistics: DiffStatisticsData; prior: TokenPrior }
          : null;

export type Envelope = { id: number; request: Request };
export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; input: boolean; stack?: string } };
