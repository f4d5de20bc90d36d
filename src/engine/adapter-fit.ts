// Whether a diff fits a base model, from their files alone (no session, no tokenizer): an audit asks
// before it looks for interpreters or loads anything, so a wrong base is named as such first.
import { loadAdapter } from './checkpoint/load-adapter';
import type { CheckpointRef } from './checkpoint/reference';
import { loadCheckpoint } from './runtime/load-model';
import { checkAdapterFits } from './runtime/lora-feeds';

/** Throws one InputError naming the first module whose shape differs from the base's. */
export async function checkDiffFitsBase(diff: CheckpointRef, baseDir: string): Promise<void> {
  const { options } = await loadCheckpoint(baseDir);
  checkAdapterFits(await loadAdapter(diff), options, `the base ${baseDir}`);
}
