// The trace `dit-audit forward` prints: logits of every prompt position (prefill), then of each
// greedy step taken through the KV cache.

import type { ModelHandle } from './runtime/engine';
import { argmax } from './text/sampling';

export interface ForwardTrace {
  /** One row per prompt position, then one per step. */
  readonly logits: Float32Array[];
  /** The greedy tokens chosen after the prompt, one per step. */
  readonly tokens: number[];
}

export async function forwardTrace(
  model: ModelHandle,
  ids: readonly number[],
  steps: number,
): Promise<ForwardTrace> {
  const vocab = model.info.options.vocabSize;
  const seq = await model.sequence(ids.length + steps);
  try {
    const { logits } = await seq.appendRows(ids, true);
    const rows: Float32Array[] = Array.from({ length: ids.length }, (_, i) =>
      logits.slice(i * vocab, (i + 1) * vocab),
    );
    const tokens: number[] = [];
    for (let s = 0; s < steps; s++) {
      const next = argmax(rows[rows.length - 1]);
      tokens.push(next);
      rows.push(await seq.append([next]));
    }
    return { logits: rows, tokens };
  } finally {
    await seq.dispose();
  }
}
