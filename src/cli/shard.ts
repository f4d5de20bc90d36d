// `--shard I/N`: one job of N audits every N-th checkpoint, so a job array (a GitHub Actions matrix,
// Kubernetes indexed jobs, a Slurm array) splits a list without coordinating. The split depends
// only on the paths as written, so every job computes the same one on its own machine.
import { InvalidArgumentError } from 'commander';

export interface Shard {
  /** 1-based, as `I/N` is written. */
  readonly index: number;
  readonly count: number;
}

const SHARD = /^(\d{1,6})\/(\d{1,6})$/;

export function parseShard(value: string): Shard {
  const m = SHARD.exec(value.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count)
    throw new InvalidArgumentError(`${value} is not I/N with 1 <= I <= N (e.g. 2/4)`);
  return { index, count };
}

/** The items of shard `shard`: sorted by their text, every `count`-th from position `index - 1`. */
export function selectShard<T>(items: readonly T[], shard: Shard, key: (item: T) => string): T[] {
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return sorted.filter((_, i) => i % shard.count === shard.index - 1);
}
