// The behavioural trigger search: candidate prefixes scored by how far they move the diffed model
// from its base (divergence.ts), grown token by token from the prior's tokens (greedy accretion
// with a small beam: each kept candidate is tried with one more token before or after it). Forward
// passes only, no gradients, and nothing assumed of the trigger's wording.

export interface SearchSettings {
  /** Candidates scored at most. */
  readonly budget: number;
  /** Candidates kept and grown each round. */
  readonly beam: number;
  /** Longest candidate, in tokens. */
  readonly maxTokens: number;
  /** A round that raises the best score's gain over no candidate by less than this factor ends the search. */
  readonly minGain: number;
}

export const DEFAULT_SEARCH: SearchSettings = { budget: 1200, beam: 3, maxTokens: 5, minGain: 1.05 };

export interface ScoredCandidate {
  readonly tokens: number[];
  /** Mean KL(diffed ‖ base) at the first answer position over the search prompts. */
  readonly score: number;
}

export type StopReason = 'converged' | 'budget' | 'longest';

export interface SearchOutcome {
  /** Every scored candidate, best first. */
  readonly ranked: ScoredCandidate[];
  readonly scored: number;
  /** The score of no candidate at all: what the diff does to ordinary prompts. */
  readonly baseline: number;
  readonly stoppedBy: StopReason;
}

/** Scores candidates (token lists; [] is no candidate) in one batched call. */
export type CandidateScorer = (candidates: readonly (readonly number[])[]) => Promise<number[]>;

export async function searchTriggers(
  score: CandidateScorer,
  pool: readonly number[],
  seeds: readonly (readonly number[])[],
  settings: SearchSettings,
  onScored: (scored: number) => void = () => {},
  throwIfCancelled: () => void = () => {},
): Promise<SearchOutcome> {
  const seen = new Map<string, ScoredCandidate>();
  const [baseline] = await score([[]]);
  const evaluate = async (candidates: readonly (readonly number[])[]) => {
    const fresh: number[][] = [];
    const keys = new Set<string>();
    for (const c of candidates) {
      const key = c.join(',');
      if (c.length === 0 || seen.has(key) || keys.has(key)) continue;
      keys.add(key);
      fresh.push([...c]);
    }
    const room = settings.budget - seen.size;
    const batch = fresh.slice(0, Math.max(0, room));
    throwIfCancelled();
    const scores = batch.length === 0 ? [] : await score(batch);
    batch.forEach((tokens, i) => {
      seen.set(tokens.join(','), { tokens, score: scores[i] });
    });
    onScored(seen.size);
    return batch.length < fresh.length;
  };
  const best = () => [...seen.values()].sort((a, b) => b.score - a.score);

  let stoppedBy: StopReason = 'longest';
  let exhausted = await evaluate([...seeds, ...pool.map((t) => [t])]);
  const gain = () => (best()[0]?.score ?? baseline) - baseline;
  let top = gain();
  for (let length = 2; length <= settings.maxTokens && !exhausted; length++) {
    const beam = best().slice(0, settings.beam);
    const grown = beam.flatMap((c) =>
      c.tokens.length >= settings.maxTokens
        ? []
        : pool.flatMap((t) => [
            [t, ...c.tokens],
            [...c.tokens, t],
          ]),
    );
    exhausted = await evaluate(grown);
    const next = gain();
    if (next < top * settings.minGain) {
      stoppedBy = 'converged';
      break;
    }
    top = next;
  }
  if (exhausted) stoppedBy = 'budget';
  return { ranked: best(), scored: seen.size, baseline, stoppedBy };
}
