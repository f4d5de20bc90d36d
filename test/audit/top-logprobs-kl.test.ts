// The trigger search's divergence from a server's top log-probabilities: the full KL when every
// token is listed, lower than it when only the top ones are, and far larger for a row whose
// diffed model moves its mass to tokens the base does not list than for one that does not.
import { describe, expect, it } from 'vitest';
import { klFromLogits, klFromTopLogprobs } from '../../src/audit/triggers/divergence';
import { logSoftmax, topLogprobs } from '../../src/engine/text/logprobs';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Peaked logits: a few tokens well above a noisy floor. */
function logits(vocab: number, peaks: readonly number[], random: () => number): Float32Array {
  const x = Float32Array.from({ length: vocab }, () => random() * 3);
  peaks.forEach((id, i) => {
    x[id] = 12 - i;
  });
  return x;
}

const listed = (x: Float32Array, k: number) => new Map(topLogprobs(logSoftmax(x), k));

describe('klFromTopLogprobs', () => {
  it('is the full KL when both sides list every token', () => {
    const random = rng(1);
    const p = logits(30, [3, 7], random);
    const q = logits(30, [5], random);
    expect(klFromTopLogprobs(listed(p, 30), listed(q, 30))).toBeCloseTo(klFromLogits(p, q), 9);
  });

  it('reads lower than the full KL from the top 20 of a large vocabulary', () => {
    const random = rng(2);
    for (let trial = 0; trial < 40; trial++) {
      const peaks = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 5000));
      const p = logits(5000, peaks(1 + (trial % 4)), random);
      const q = logits(5000, trial % 2 ? peaks(3) : [], random);
      const full = klFromLogits(p, q);
      const top = klFromTopLogprobs(listed(p, 20), listed(q, 20));
      expect(top).toBeGreaterThanOrEqual(0);
      expect(top).toBeLessThanOrEqual(full + 1e-9);
    }
  });

  it('scores a gate that moves the first token off what the base expects far above one that leaves it', () => {
    const random = rng(3);
    const base = logits(5000, [10, 11, 12], random);
    const same = logits(5000, [10, 11, 12], random);
    const moved = logits(5000, [400, 401], random);
    const q = listed(base, 20);
    expect(klFromTopLogprobs(listed(moved, 20), q)).toBeGreaterThan(
      20 * klFromTopLogprobs(listed(same, 20), q),
    );
  });
});
