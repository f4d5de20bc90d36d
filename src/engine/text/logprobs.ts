// Log-probabilities of a logits row: the whole row (float64), and the most likely tokens of it.

export function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const log = max + Math.log(sum);
  return Float64Array.from(x, (v) => v - log);
}

/** The `k` largest entries as [token id, log-probability], largest first, the lower id first on ties. */
export function topLogprobs(logprobs: Float64Array, k: number): [number, number][] {
  const top: [number, number][] = [];
  if (k <= 0) return top;
  for (let id = 0; id < logprobs.length; id++) {
    const lp = logprobs[id];
    if (top.length === k && lp <= top[k - 1][1]) continue;
    let at = top.length;
    while (at > 0 && top[at - 1][1] < lp) at--;
    top.splice(at, 0, [id, lp]);
    if (top.length > k) top.pop();
  }
  return top;
}
