// What the trigger search asks of the two models it compares (the diffed model and its base): how
// far apart their next-token distributions are after rows of tokens, and their greedy answers.
// The local engine answers with full logits; a remote server with its top log-probabilities.
import type { ModelHandle } from '../../engine/runtime/engine';
import { generate } from '../../engine/text/generate';
import type { TextCodec } from '../../engine/text/tokenizer';
import { AuditCancelledError } from '../errors';
import { divergences, type ModelSide } from './divergence';

export type Side = 'diffed' | 'base';

export interface TriggerModels {
  /** KL(diffed ‖ base) at the first answer position after each row, in nats. */
  divergences(rows: readonly (readonly number[])[], signal?: AbortSignal): Promise<number[]>;
  /** Greedy answers of one side, one per row: the new tokens, a final stop token kept. */
  answers(
    side: Side,
    rows: readonly (readonly number[])[],
    maxNewTokens: number,
    signal?: AbortSignal,
  ): Promise<number[][]>;
}

/** The two sides on the local engine (one warm session when the diff is a LoRA on its base). */
export function localTriggerModels(diffed: ModelSide, base: ModelSide, codec: TextCodec): TriggerModels {
  return {
    divergences: (rows, signal) => divergences(diffed, base, rows, signal),
    async answers(side, rows, maxNewTokens, signal) {
      const { model, adapters } = side === 'diffed' ? diffed : base;
      await model.setAdapters(adapters);
      const out: number[][] = [];
      for (const row of rows) out.push(await greedy(model, codec, row, maxNewTokens, signal));
      return out;
    },
  };
}

async function greedy(
  model: ModelHandle,
  codec: TextCodec,
  row: readonly number[],
  maxNewTokens: number,
  signal: AbortSignal | undefined,
): Promise<number[]> {
  const seq = await model.sequence(row.length + maxNewTokens + 1);
  try {
    const g = await generate(
      seq,
      row,
      { maxNewTokens, stopTokenIds: codec.stopTokenIds, sampling: { kind: 'greedy' } },
      signal,
    );
    if (g.finishReason === 'cancelled') throw new AuditCancelledError();
    return g.tokens;
  } finally {
    await seq.dispose();
  }
}
