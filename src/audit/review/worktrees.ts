// The two versions a review compares, checked out side by side in temporary worktrees (detached,
// so no branch moves), and removed afterwards whatever happens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from './git';

export async function withWorktrees<T>(
  repo: string,
  commits: readonly string[],
  use: (dirs: string[]) => Promise<T>,
): Promise<T> {
  const parent = mkdtempSync(join(tmpdir(), 'dit-review-'));
  const dirs: string[] = [];
  try {
    for (const [i, commit] of commits.entries()) {
      const dir = join(parent, String(i));
      git(repo, ['worktree', 'add', '--detach', '--quiet', dir, commit]);
      dirs.push(dir);
    }
    return await use(dirs);
  } finally {
    for (const dir of dirs) {
      try {
        git(repo, ['worktree', 'remove', '--force', dir]);
      } catch {
        // Removed below; `git worktree prune` forgets it.
      }
    }
    rmSync(parent, { recursive: true, force: true });
    try {
      git(repo, ['worktree', 'prune']);
    } catch {
      // Nothing left to prune.
    }
  }
}
