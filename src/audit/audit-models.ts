// The models an audit runs, wherever they run: the diffed model and its base, each able to answer
// a chat turn with adapters stacked on it (an interpreter), the diff's weights read for its
// statistics and token prior, and what the trigger search asks of both. The local engine
// (local-models.ts) and an OpenAI-compatible server (remote/remote-models.ts) provide them.
import type { DiffAnalysis } from '../engine/analysis/analyse-diff';
import type { CheckpointRef } from '../engine/checkpoint/reference';
import type { TextCodec } from '../engine/text/tokenizer';
import type { Reply } from './ask-model';
import type { AuditReport } from './report';
import type { Side, TriggerModels } from './triggers/trigger-models';

export interface AuditModels {
  /** The tokenizer and chat template the rows and questions are written with. */
  readonly codec: TextCodec;
  readonly executionProvider: NonNullable<AuditReport['executionProvider']>;
  readonly triggers: TriggerModels;
  /** One greedy answer of `side` with `extra` adapters stacked on it, asked as a user turn, thinking off. */
  ask(
    side: Side,
    extra: readonly CheckpointRef[],
    prompt: string,
    maxNewTokens: number,
    signal: AbortSignal | undefined,
    onToken?: (generated: number) => void,
  ): Promise<Reply>;
  /** The diff's weight statistics and token prior (the whole vocabulary ranked). */
  analyse(signal: AbortSignal | undefined): Promise<DiffAnalysis>;
  /** Leaves the models as they were found (no adapters on a shared session, none registered). */
  close(): Promise<void>;
}
