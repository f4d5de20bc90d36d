// The reference cases of ../shared/fixtures/tiny (cases.json; their float64 logits are in
// expected_logits.safetensors under each case's key), the measure the tests compare rows by, and
// the fidelity of a reduced precision over all of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensorsFile } from '../../src/engine/checkpoint/safetensors';
import { forwardTrace } from '../../src/engine/forward';
import type { Engine } from '../../src/engine/runtime/engine';
import type { OpenOptions } from '../../src/engine/runtime/model-host';
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

/**
 * Every case at a reduced precision against its float64 reference: the worst prompt row
 * (relativeError) and how many first greedy tokens match, adapters stacked as the case says.
 */
export async function fidelityOnCases(
  engine: Engine,
  options: Pick<OpenOptions, 'provider' | 'precision'>,
): Promise<{ worst: number; sameFirst: number }> {
  const expected = await openSafetensorsFile(join(TINY, 'expected_logits.safetensors'));
  let worst = 0;
  let sameFirst = 0;
  for (const c of FIXTURE_CASES) {
    const model = await engine.open(join(TINY, c.checkpoint), { ...options, maxPositions: 64 });
    await model.setAdapters(c.adapters.map((a) => ({ path: join(TINY, a) })));
    const trace = await forwardTrace(model, c.input_ids, 1);
    const ref = await expected.readFloat32(c.key);
    const vocab = model.info.options.vocabSize;
    c.input_ids.forEach((_, i) => {
      worst = Math.max(worst, relativeError(trace.logits[i], ref.subarray(i * vocab, (i + 1) * vocab)));
    });
    if (trace.tokens[0] === c.greedy_next_8[0]) sameFirst++;
    await model.close();
  }
  return { worst, sameFirst };
}
