// The behavioural trigger search: candidate prefixes scored by how far they move the diffed model
// from its base (divergence.ts), grown token by token (greedy accretion with a small beam: each
// kept candidate is tried with one more token before or after it). Forward passes only, no
// gradients, and nothing assumed of the trigger's wording.
//
//   1. seeds and the prior's strongest tokens, on every search prompt;
//   2. a sweep down the prior's ranking (the rest of the vocabulary, as far as the budget goes),
//      one prompt each, its best tokens scored again on every prompt;
//   3. accretion: the best candidates grow by the best single tokens, and the very best by any
//      token of the vocabulary (a sweep again), until a round stops paying or the budget ends.
// The budget counts rows: one candidate before one prompt, read by both models.

export interface SearchSettings {
  /** Rows (candidate × prompt) scored at most. */
  readonly budget: number;
  /** Candidates kept and grown each round. */
  readonly beam: number;
  /** Longest candidate, in tokens. */
  readonly maxTokens: number;
  /** A round that raises the best score's gain over no candidate by less than this factor ends the search. */
  readonly minGain: number;
  /** Prior tokens scored on every prompt first. */
  readonly priorTokens: number;
  /** Share of the budget left after step 1 that the sweep may use. */
  readonly sweepShare: number;
  /** Single tokens the accretion grows candidates from. */
  readonly growFrom: number;
}

export const DEFAULT_SEARCH: SearchSettings = {
  budget: 5000,
  beam: 3,
  maxTokens: 5,
  minGain: 1.05,
  priorTokens: 40,
  sweepShare: 0.6,
  growFrom: 32,
};

export interface ScoredCandidate {
  readonly tokens: number[];
  /** Mean KL(diffed ‖ base) at the first answer position over the search prompts. */
  readonly score: number;
}

export type StopReason = 'converged' | 'budget' | 'longest';

export interface SearchOutcome {
  /** Every candidate scored on all prompts, best first. */
  readonly ranked: ScoredCandidate[];
  /** Candidates scored (on one prompt or on all). */
  readonly scored: number;
  /** Single tokens tried, of the `ranking` given: how far down the vocabulary the search went. */
  readonly singleTokens: number;
  readonly rows: number;
  /** The score of no candidate at all: what the diff does to ordinary prompts. */
  readonly baseline: number;
  readonly stoppedBy: StopReason;
}

/** Scores candidates (token lists; [] is no candidate) on the first `prompts` search prompts, batched. */
export type CandidateScorer = (
  candidates: readonly (readonly number[])[],
  prompts: number,
) => Promise<number[]>;

export async function searchTriggers(
  score: CandidateScorer,
  prompts: number,
  ranking: readonly number[],
  seeds: readonly (readonly number[])[],
  settings: SearchSettings,
  onRows: (rows: number) => void = () => {},
  throwIfCancelled: () => void = () => {},
): Promise<SearchOutcome> {
  const seen = new Map<string, ScoredCandidate>();
  let rows = 0;
  let sweptSingles = 0;
  let sweptOther = 0;
  const run = async (candidates: readonly (readonly number[])[], n: number) => {
    throwIfCancelled();
    const scores = candidates.length === 0 ? [] : await score(candidates, n);
    rows += candidates.length * n;
    onRows(rows);
    return scores;
  };
  const [baseline] = await run([[]], prompts);
  /** Scores fresh candidates on every prompt while the budget lasts; true when it ran out. */
  const evaluate = async (candidates: readonly (readonly number[])[]) => {
    const fresh: number[][] = [];
    const keys = new Set<string>();
    for (const c of candidates) {
      const key = c.join(',');
      if (c.length === 0 || seen.has(key) || keys.has(key)) continue;
      keys.add(key);
      fresh.push([...c]);
    }
    const room = Math.floor((settings.budget - rows) / prompts);
    const batch = fresh.slice(0, Math.max(0, room));
    const scores = await run(batch, prompts);
    batch.forEach((tokens, i) => {
      seen.set(tokens.join(','), { tokens, score: scores[i] });
    });
    return batch.length < fresh.length;
  };
  const best = () => [...seen.values()].sort((a, b) => b.score - a.score);

  /**
   * Candidates in order of promise, scored on one prompt each as far as `sweepShare` of the budget
   * left goes; the strongest of them scored again on every prompt. True when the budget ran out.
   */
  const sweep = async (candidates: readonly number[][]) => {
    const room = Math.floor((settings.budget - rows) * settings.sweepShare);
    const tried = candidates.filter((c) => !seen.has(c.join(','))).slice(0, Math.max(0, room));
    const scores = await run(tried, 1);
    const strongest = tried.map((c, i) => ({ c, s: scores[i] })).sort((a, b) => b.s - a.s);
    return { tried, budgetOut: await evaluate(strongest.slice(0, settings.beam * 3).map(({ c }) => c)) };
  };

  const first = ranking.slice(0, settings.priorTokens);
  let budgetOut = await evaluate([...seeds, ...first.map((t) => [t])]);
  if (!budgetOut) {
    const swept = await sweep(ranking.slice(settings.priorTokens).map((t) => [t]));
    sweptSingles = swept.tried.length;
    budgetOut = swept.budgetOut;
  }
  const singles = best()
    .filter((c) => c.tokens.length === 1)
    .slice(0, settings.growFrom)
    .map((c) => c.tokens[0]);
  const inPool = new Set(singles);

  const gain = () => (best()[0]?.score ?? baseline) - baseline;
  let stoppedBy: StopReason = budgetOut ? 'budget' : 'longest';
  let top = gain();
  for (let length = 2; length <= settings.maxTokens && !budgetOut; length++) {
    const beam = best()
      .slice(0, settings.beam)
      .filter((c) => c.tokens.length < settings.maxTokens);
    const around = (c: ScoredCandidate, t: number) => [
      [t, ...c.tokens],
      [...c.tokens, t],
    ];
    budgetOut = await evaluate(beam.flatMap((c) => singles.flatMap((t) => around(c, t))));
    // The best candidate also grows by any token of the vocabulary, in the prior's order: a
    // trigger's second word may do nothing alone.
    if (!budgetOut && beam.length > 0) {
      const swept = await sweep(ranking.filter((t) => !inPool.has(t)).flatMap((t) => around(beam[0], t)));
      sweptOther += swept.tried.length;
      budgetOut = swept.budgetOut;
    }
    const next = gain();
    if (budgetOut) {
      stoppedBy = 'budget';
      break;
    }
    if (next < top * settings.minGain) {
      stoppedBy = 'converged';
      break;
    }
    top = next;
  }
  const singleTokens = Math.min(ranking.length, first.length + sweptSingles);
  return {
    ranked: best(),
    scored: seen.size + sweptSingles + sweptOther,
    singleTokens,
    rows,
    baseline,
    stoppedBy,
  };
}
