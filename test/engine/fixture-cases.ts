// The reference cases of ../shared/fixtures/tiny (cases.json; their float64 logits are in
// expected_logits.safetensors under each case's key), and the measure the tests compare rows by.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY } from './paths';

export interface FixtureCase {
  key: string;
  checkpoint: string;
  adapters: string[];
  input_ids: number[];
  greedy_next_8: number[];
}

export const FIXTURE_CASES: readonly FixtureCase[] = JSON.parse(
  readFileSync(join(TINY, 'cases.json'), 'utf8'),
).cases;

/** max |row − ref| / max |ref|. */
export function relativeError(row: ArrayLike<number>, ref: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(row[i] - ref[i]));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  return maxDiff / maxRef;
}
