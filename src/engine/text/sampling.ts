// Logits processors and samplers: pure functions over Float32Array (inputs are never changed).
// Order as in transformers: repetition penalty → temperature → top-k → top-p → draw.

import { InputError } from '../checkpoint/types';

export type SamplingOptions =
  | { readonly kind: 'greedy'; readonly repetitionPenalty?: number }
  | {
      readonly kind: 'sample';
      /** > 0; 0 means greedy. */
      readonly temperature: number;
      /** Nucleus mass in [0, 1]; 1 keeps everything, 0 keeps only the most likely token. */
      readonly topP: number;
      readonly topK?: number;
      readonly seed: number;
      readonly repetitionPenalty?: number;
    };

/** Index of the largest logit; the lowest index wins ties, NaN never wins. */
export function argmax(logits: Float32Array): number {
  let best = -1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] > bestValue || (best < 0 && logits[i] === bestValue)) {
      best = i;
      bestValue = logits[i];
    }
  }
  if (best < 0) throw new Error('argmax over logits that are all NaN or empty.');
  return best;
}

/** CTRL's penalty: a seen token's positive logit is divided by `penalty`, a negative one multiplied. */
export function applyRepetitionPenalty(
  logits: Float32Array,
  seen: Iterable<number>,
  penalty: number,
): Float32Array {
  const out = logits.slice();
  if (penalty === 1) return out;
  for (const id of new Set(seen)) {
    if (id < 0 || id >= out.length) continue;
    out[id] = out[id] > 0 ? out[id] / penalty : out[id] * penalty;
  }
  return out;
}

export function applyTemperature(logits: Float32Array, temperature: number): Float32Array {
  const out = logits.slice();
  for (let i = 0; i < out.length; i++) out[i] /= temperature;
  return out;
}

/** Keeps the `k` largest logits (and any tied with the k-th), the rest become -Infinity. */
export function topKFilter(logits: Float32Array, k: number): Float32Array {
  if (k >= logits.length) return logits.slice();
  const kth = Float32Array.from(logits).sort().reverse()[k - 1];
  return logits.map((x) => (x >= kth ? x : Number.NEGATIVE_INFINITY));
}

/** Softmax with float64 accumulation; -Infinity and NaN get probability 0. */
export function softmax(logits: Float32Array): Float32Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of logits) if (x > max) max = x;
  const out = new Float32Array(logits.length);
  if (max === Number.NEGATIVE_INFINITY) return out;
  let sum = 0;
  const exps = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const e = Number.isNaN(logits[i]) ? 0 : Math.exp(logits[i] - max);
    exps[i] = e;
    sum += e;
  }
  for (let i = 0; i < logits.length; i++) out[i] = exps[i] / sum;
  return out;
}

/**
 * Nucleus filter: keeps the most likely tokens, in order of probability (lower index first on ties),
 * up to and including the one whose cumulative probability reaches `p`; always at least one.
 */
export function topPFilter(logits: Float32Array, p: number): Float32Array {
  if (p >= 1) return logits.slice();
  const probs = softmax(logits);
  // A token of the nucleus has more than (1 - p) / n of the mass, so only those need sorting
  // (halved against rounding): a few hundred candidates instead of the whole vocabulary.
  const floor = ((1 - p) / probs.length) * 0.5;
  const order: number[] = [];
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0 && probs[i] >= floor) order.push(i);
  order.sort((a, b) => probs[b] - probs[a] || a - b);
  const out = new Float32Array(logits.length).fill(Number.NEGATIVE_INFINITY);
  let cumulative = 0;
  for (const i of order) {
    out[i] = logits[i];
    cumulative += probs[i];
    if (cumulative >= p) break;
  }
  return out;
}

/** mulberry32: a small seeded PRNG, deterministic per seed; returns numbers in [0, 1). */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws an index from a probability vector (inverse CDF). */
export function sampleFromProbs(probs: Float32Array, random: () => number): number {
  let total = 0;
  for (const p of probs) total += p;
  const target = random() * total;
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    cumulative += probs[i];
    last = i;
    if (target < cumulative) return i;
  }
  // Rounding can leave `target` just past the sum: the last possible token is the answer.
  if (last < 0) throw new Error('Cannot sample from a distribution with no mass.');
  return last;
}

/** Picks the next token from the logits of the last position and the ids seen so far. */
export type Sampler = (logits: Float32Array, seen: readonly number[]) => number;

export function createSampler(options: SamplingOptions): Sampler {
  validateSampling(options);
  const penalty = options.repetitionPenalty ?? 1;
  const penalise = (logits: Float32Array, seen: readonly number[]) =>
    penalty === 1 ? logits : applyRepetitionPenalty(logits, seen, penalty);
  if (options.kind === 'greedy' || options.temperature === 0) {
    return (logits, seen) => argmax(penalise(logits, seen));
  }
  const { temperature, topP, topK } = options;
  const random = createRng(options.seed);
  return (logits, seen) => {
    let x = applyTemperature(penalise(logits, seen), temperature);
    if (topK !== undefined) x = topKFilter(x, topK);
    x = topPFilter(x, topP);
    return sampleFromProbs(softmax(x), random);
  };
}

function validateSampling(options: SamplingOptions): void {
  const penalty = options.repetitionPenalty;
  if (penalty !== undefined && !(penalty > 0 && Number.isFinite(penalty))) {
    throw new InputError(`repetitionPenalty must be a positive number, not ${penalty}.`);
  }
  if (options.kind === 'greedy') return;
  const { temperature, topP, topK, seed } = options;
  if (!(temperature >= 0 && Number.isFinite(temperature))) {
    throw new InputError(`temperature must be 0 or more, not ${temperature}.`);
  }
  if (!(topP >= 0 && topP <= 1)) throw new InputError(`topP must lie in [0, 1], not ${topP}.`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK > 0)) {
    throw new InputError(`topK must be a positive integer, not ${topK}.`);
  }
  if (!Number.isSafeInteger(seed)) throw new InputError(`seed must be an integer, not ${seed}.`);
}
