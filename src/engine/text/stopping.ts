// Stopping criteria, checked after each new token.

import { InputError } from '../checkpoint/types';

export type FinishReason = 'stop' | 'length' | 'cancelled' | 'stop-string';

export interface StoppingOptions {
  readonly maxNewTokens: number;
  readonly stopTokenIds: readonly number[];
  /** Stop once the decoded new text contains one of these (needs `decode`). */
  readonly stopStrings?: readonly string[];
  readonly decode?: (ids: readonly number[]) => string;
}

/** Given the new tokens so far (the last one just chosen), says why to stop, or undefined to go on. */
export type StoppingCriteria = (generated: readonly number[]) => FinishReason | undefined;

export function createStoppingCriteria(options: StoppingOptions): StoppingCriteria {
  const { maxNewTokens, decode } = options;
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0)) {
    throw new InputError(`maxNewTokens must be a whole number, not ${maxNewTokens}.`);
  }
  const stopIds = new Set(options.stopTokenIds);
  const stopStrings = (options.stopStrings ?? []).filter((s) => s.length > 0);
  if (stopStrings.length > 0 && !decode) throw new Error('Stop strings need a decode function.');
  return (generated) => {
    const last = generated[generated.length - 1];
    if (last !== undefined && stopIds.has(last)) return 'stop';
    // The whole new text is decoded each time: byte-level tokens need not map to whole characters,
    // and a few hundred decodes cost nothing next to a model step.
    if (decode && stopStrings.length > 0) {
      const text = decode(generated);
      if (stopStrings.some((s) => text.includes(s))) return 'stop-string';
    }
    if (generated.length >= maxNewTokens) return 'length';
    return undefined;
  };
}

/** The text before the first stop string, or all of it. */
export function cutAtStopString(text: string, stopStrings: readonly string[]): string {
  let end = text.length;
  for (const s of stopStrings) {
    if (s.length === 0) continue;
    const at = text.indexOf(s);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}
