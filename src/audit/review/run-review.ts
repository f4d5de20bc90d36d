// A review of a branch: the checkpoints it adds or changes against the merge base, each audited in
// its new version and, where the base had one, its old version, and what changed between the two.
// The versions are checked out in temporary worktrees; the reports name the files in the repository.
import { join } from 'node:path';
import { InputError } from '../../engine/checkpoint/types';
import { throwIfCancelled } from '../errors';
import type { AuditReport } from '../report';
import type { AuditContext, AuditRequest } from '../request';
import { runAudit } from '../run-audit';
import { type ChangedCheckpoint, changedCheckpoints } from './changed-checkpoints';
import { compareReports, type ReportChanges } from './compare';
import { changedPaths, commitOf, mergeBase, repositoryRoot } from './git';
import { withWorktrees } from './worktrees';

export interface ReviewRequest {
  /** Any folder inside the repository. */
  readonly repo: string;
  /** The branch the change goes into (its merge base with `head` is the old version). */
  readonly base: string;
  /** Default HEAD. */
  readonly head?: string;
  /** How each version is audited (the subject is each checkpoint). */
  readonly audit: Omit<AuditRequest, 'subject'>;
}

export interface ReviewedVersion {
  readonly report: AuditReport | null;
  /** Why there is no report: not audited (an LFS pointer), or the audit's input error. */
  readonly problem: string | null;
}

export interface ReviewedCheckpoint extends ChangedCheckpoint {
  readonly old: ReviewedVersion | null;
  readonly new: ReviewedVersion | null;
  readonly changes: ReportChanges;
}

export interface Review {
  readonly root: string;
  readonly base: string;
  readonly head: string;
  readonly mergeBase: string;
  readonly checkpoints: readonly ReviewedCheckpoint[];
}

export async function runReview(
  request: ReviewRequest,
  context: AuditContext,
  onCheckpoint?: (c: ChangedCheckpoint, version: 'old' | 'new') => void,
): Promise<Review> {
  const root = repositoryRoot(request.repo);
  const head = commitOf(root, request.head ?? 'HEAD');
  const base = commitOf(root, request.base);
  const since = mergeBase(root, base, head);
  const changes = changedPaths(root, since, head);
  const checkpoints = await withWorktrees(root, [since, head], async ([oldDir, newDir]) => {
    const found = changedCheckpoints(changes, newDir, oldDir);
    const reviewed: ReviewedCheckpoint[] = [];
    for (const c of found) {
      throwIfCancelled(context.signal);
      const audit = async (dir: string, version: 'old' | 'new'): Promise<ReviewedVersion> => {
        onCheckpoint?.(c, version);
        if (version === 'new' && c.lfsPointers.length > 0) {
          return {
            report: null,
            problem: `not audited: ${c.lfsPointers.join(', ')} ${c.lfsPointers.length === 1 ? 'is a Git LFS pointer' : 'are Git LFS pointers'}, the content was not fetched (git lfs pull)`,
          };
        }
        try {
          const report = await runAudit({ ...request.audit, subject: { path: join(dir, c.path) } }, context);
          return { report: relocated(report, dir, root), problem: null };
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          return { report: null, problem: error.message.replaceAll(dir, root) };
        }
      };
      const now = c.status === 'deleted' ? null : await audit(newDir, 'new');
      const old = c.status === 'added' ? null : await audit(oldDir, 'old');
      reviewed.push({
        ...c,
        old,
        new: now,
        changes: compareReports(old?.report ?? null, now?.report ?? null),
      });
    }
    return reviewed;
  });
  return { root, base, head, mergeBase: since, checkpoints };
}

/** A report audited in a worktree names the same files in the repository's own checkout. */
function relocated(report: AuditReport, dir: string, root: string): AuditReport {
  const move = (path: string) => (path.startsWith(dir) ? root + path.slice(dir.length) : path);
  return {
    ...report,
    subject: { ...report.subject, path: move(report.subject.path) },
    base: report.base && { ...report.base, path: move(report.base.path) },
    interpreters: report.interpreters.map((i) => ({ ...i, path: move(i.path) })),
  };
}
