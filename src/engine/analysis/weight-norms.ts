// ‖W‖ (Frobenius) of a checkpoint's weights, for the statistics' ‖ΔW‖/‖W‖: reading every linear
// weight of a base costs seconds (Qwen3-0.6B: 4 s here) to minutes (8B), and many diffs are
// audited on one base, so the norms are kept on disk by the checkpoint files' identity (real path,
// size, modification time) and read from the weights only once. The cache is only a shortcut: one
// that cannot be read or written is computed again.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filesIdentity, userCacheFolder } from '../checkpoint/cache-identity';
import type { TensorSource } from '../checkpoint/types';

const FORMAT_VERSION = 1;

/** The folder the norms are kept in: DIT_WEIGHT_NORMS_CACHE, else the user's cache. */
export function defaultWeightNormsRoot(): string {
  return userCacheFolder('weight-norms', process.env.DIT_WEIGHT_NORMS_CACHE);
}

export async function weightNorms(
  tensors: TensorSource,
  names: readonly string[],
  root = defaultWeightNormsRoot(),
): Promise<Map<string, number>> {
  const key = keyOf(tensors);
  const file = join(root, `${key.slice(0, 32)}.json`);
  const known = read(file, key);
  const norms = new Map<string, number>();
  let computed = false;
  for (const name of names) {
    const cached = known[name];
    if (typeof cached === 'number') norms.set(name, cached);
    else {
      norms.set(name, l2(await tensors.readFloat32(name)));
      computed = true;
    }
  }
  if (computed) write(file, key, { ...known, ...Object.fromEntries(norms) });
  return norms;
}

export function l2(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

function keyOf(tensors: TensorSource): string {
  return createHash('sha256')
    .update(JSON.stringify([FORMAT_VERSION, filesIdentity(tensors.files)]))
    .digest('hex');
}

function read(file: string, key: string): Record<string, unknown> {
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key?: unknown; norms?: unknown };
    if (cached.key !== key || typeof cached.norms !== 'object' || cached.norms === null) return {};
    return cached.norms as Record<string, unknown>;
  } catch {
    return {};
  }
}

function write(file: string, key: string, norms: Record<string, unknown>): void {
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    const partial = `${file}.${process.pid}.${Date.now()}.partial`;
    writeFileSync(partial, JSON.stringify({ key, norms }));
    renameSync(partial, file);
  } catch {
    // Computed again next time.
  }
}
