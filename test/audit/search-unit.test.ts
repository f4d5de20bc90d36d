// The search's algorithm on a scorer with a known answer: a two-token trigger whose first token
// alone opens the gate a little. No model: this checks accretion, the sweep and the budget.
import { describe, expect, it } from 'vitest';
import { type CandidateScorer, DEFAULT_SEARCH, searchTriggers } from '../../src/audit/triggers/search';

/** [12, 40] fires fully (score 10), 12 alone a little (2), anything else 0.1. */
function gate(calls: { rows: number }): CandidateScorer {
  return async (candidates, prompts) => {
    calls.rows += candidates.length * prompts;
    return candidates.map((c) => {
      const s = c.join(',');
      if (s.includes('12,40')) return 10 - 0.5 * (c.length - 2);
      if (c.includes(12)) return 2;
      return 0.1;
    });
  };
}

const ranking = Array.from({ length: 300 }, (_, i) => (i * 37) % 300);

describe('searchTriggers', () => {
  it('grows the partial trigger into the whole one, and stops when a round no longer pays', async () => {
    const calls = { rows: 0 };
    const out = await searchTriggers(gate(calls), 3, ranking, [], DEFAULT_SEARCH);
    expect(out.ranked[0]).toEqual({ tokens: [12, 40], score: 10 });
    expect(out.stoppedBy).toBe('converged');
    expect(out.rows).toBe(calls.rows);
    expect(out.rows).toBeLessThanOrEqual(DEFAULT_SEARCH.budget);
    expect(out.singleTokens).toBe(300);
    expect(out.baseline).toBe(0.1);
  });

  it('finds a gate token deep in the prior ranking by the sweep', async () => {
    const deep = [...ranking.filter((t) => t !== 12), 12];
    const out = await searchTriggers(gate({ rows: 0 }), 3, deep, [], DEFAULT_SEARCH);
    expect(out.ranked[0].tokens).toEqual([12, 40]);
  });

  it('keeps to a small budget, and says the budget stopped it', async () => {
    const calls = { rows: 0 };
    const out = await searchTriggers(gate(calls), 3, ranking, [[7, 7]], { ...DEFAULT_SEARCH, budget: 200 });
    expect(calls.rows).toBeLessThanOrEqual(200 + 3);
    expect(out.stoppedBy).toBe('budget');
    expect(out.singleTokens).toBeLessThan(300);
    expect(out.ranked.some((c) => c.tokens.join(',') === '7,7')).toBe(true);
  });
});
