// What is known about a checkpoint an editor sees named: an unsafe pickle (from its opcodes, no
// model needed), the newest cached report about its content, or nothing yet. Hashing is the cost,
// so a checkpoint whose files the hash memo does not know is hashed only when it is small.
import { type Checkpoint, checkpointFiles } from '../../engine/checkpoint/classify';
import type { CheckpointRef } from '../../engine/checkpoint/reference';
import { describeTorchFile } from '../../engine/checkpoint/torch-layouts';
import type { ReportCache } from '../cache';
import type { AuditReport } from '../report';

export type CheckpointStatus =
  | { readonly kind: 'unsafe'; readonly globals: readonly string[] }
  /** A DIT-adapter in the paper's `.pt` layout: it reads diffs, it is not one to audit. */
  | { readonly kind: 'interpreter' }
  | { readonly kind: 'audited'; readonly report: AuditReport }
  /** `too-large`: not hashed, so a report about the same content elsewhere would not be found. */
  | { readonly kind: 'not-audited'; readonly identified: boolean }
  | { readonly kind: 'unreadable'; readonly message: string };

/** Unknown bytes hashed to identify a checkpoint that was never hashed here (adapters, diffs). */
export const MAX_PEEK_HASH_BYTES = 256 * 1024 * 1024;

export async function checkpointStatus(
  ref: CheckpointRef,
  checkpoint: Checkpoint,
  cache: ReportCache,
  maxHashBytes = MAX_PEEK_HASH_BYTES,
): Promise<CheckpointStatus> {
  try {
    if (checkpoint.kind === 'torch-file') {
      const described = await describeTorchFile(checkpoint.path);
      if (described.forbiddenGlobals.length > 0)
        return { kind: 'unsafe', globals: described.forbiddenGlobals };
      if (described.layout === 'dit-adapter') return { kind: 'interpreter' };
    }
    const files = await checkpointFiles(checkpoint);
    const hashed = await cache.hasher.hashFilesIfCheap(checkpoint.path, files, maxHashBytes);
    if (!hashed) return { kind: 'not-audited', identified: false };
    const report = await cache.latestFor(hashed.sha256, ref.entry);
    return report ? { kind: 'audited', report } : { kind: 'not-audited', identified: true };
  } catch (e) {
    return { kind: 'unreadable', message: e instanceof Error ? e.message : String(e) };
  }
}
