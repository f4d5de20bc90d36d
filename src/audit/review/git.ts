// Git as the review reads it: plain `git` commands, their output as text, a failure as one line.
import { execFileSync } from 'node:child_process';
import { InputError } from '../../engine/checkpoint/types';

const MAX_OUTPUT = 256 * 1024 * 1024;

export function git(cwd: string, args: readonly string[]): string {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: MAX_OUTPUT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Checkpoints are large: never let a hook or a pager run, never ask for credentials.
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', GIT_LFS_SKIP_SMUDGE: '1' },
    });
  } catch (error) {
    const e = error as { stderr?: string; code?: string; message: string };
    if (e.code === 'ENOENT')
      throw new InputError('git is not installed (the review reads the repository with it)');
    const why = (e.stderr ?? e.message).trim().split('\n')[0];
    throw new InputError(`git ${args[0]} failed in ${cwd}: ${why}`);
  }
}

/** The repository's top folder for any folder inside it. */
export function repositoryRoot(cwd: string): string {
  return git(cwd, ['rev-parse', '--show-toplevel']).trim();
}

/** A revision as a full commit id; the error names the revision when it does not exist. */
export function commitOf(repo: string, rev: string): string {
  if (rev.startsWith('-')) throw new InputError(`${rev} is not a revision`);
  try {
    return git(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).trim();
  } catch {
    throw new InputError(`${rev} is not a commit of the repository at ${repo}`);
  }
}

export function mergeBase(repo: string, a: string, b: string): string {
  return git(repo, ['merge-base', a, b]).trim();
}

export interface ChangedPath {
  readonly status: 'added' | 'modified' | 'deleted';
  /** Relative to the repository's root, `/`-separated. */
  readonly path: string;
}

/** What `head` changes against `base`, renames seen as a deletion and an addition. */
export function changedPaths(repo: string, base: string, head: string): ChangedPath[] {
  const out = git(repo, ['diff', '--name-status', '--no-renames', '-z', base, head, '--']);
  const fields = out.split('\0').filter((f) => f !== '');
  const changes: ChangedPath[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const code = fields[i][0];
    const status = code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified';
    changes.push({ status, path: fields[i + 1] });
  }
  return changes;
}
