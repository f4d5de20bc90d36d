// "Review Finetunes in This Branch": the built-in Git extension names the repository and its
// branches; the user picks the branch the change goes into; the review core does the rest.
import * as vscode from 'vscode';
import type { Log } from '../log';
import type { ReviewService } from '../review/review-service';

export const REVIEW_COMMAND = 'ditAuditor.reviewBranch';

/** The part of the Git extension's API (extensions/git/src/api/git.d.ts, version 1) used here. */
interface GitRepository {
  readonly rootUri: vscode.Uri;
  readonly state: {
    readonly HEAD: { readonly name?: string } | undefined;
    readonly refs: readonly GitRef[];
  };
  /** VS Code 1.71+: `state.refs` may be empty until asked for. */
  getRefs?(query: Record<string, never>): Promise<readonly GitRef[]>;
}
interface GitRef {
  readonly type: number;
  readonly name?: string;
}
interface GitApi {
  readonly repositories: readonly GitRepository[];
}
/** RefType.Head and RefType.RemoteHead in the Git extension's API. */
const BRANCH_TYPES = new Set([0, 1]);
const LIKELY_BASES = ['main', 'master', 'origin/main', 'origin/master', 'develop'];

export function registerReviewBranch(reviews: ReviewService, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand(REVIEW_COMMAND, async () => {
    let git: GitApi | undefined;
    try {
      git = await gitApi();
    } catch (e) {
      // getAPI throws when the extension runs without a model: `git.enabled` is off, or no git was found.
      log.warn(`the Git extension gave no API: ${String(e)}`);
    }
    if (!git) {
      void vscode.window.showErrorMessage(
        'Reviewing a branch needs the built-in Git extension, enabled ("git.enabled") and with git installed.',
      );
      return;
    }
    const repo = await pickRepository(git.repositories);
    if (!repo) return;
    const base = await pickBase(repo);
    if (!base) return;
    log.info(`reviewing ${repo.rootUri.fsPath} against ${base}`);
    await reviews.review(repo.rootUri.fsPath, base);
  });
}

async function gitApi(): Promise<GitApi | undefined> {
  const extension = vscode.extensions.getExtension<{ getAPI(version: 1): GitApi }>('vscode.git');
  if (!extension) return undefined;
  const exports = extension.isActive ? extension.exports : await extension.activate();
  return exports.getAPI(1);
}

async function pickRepository(repositories: readonly GitRepository[]): Promise<GitRepository | undefined> {
  if (repositories.length === 0) {
    void vscode.window.showErrorMessage('No Git repository is open in this window.');
    return undefined;
  }
  if (repositories.length === 1) return repositories[0];
  const picked = await vscode.window.showQuickPick(
    repositories.map((r) => ({ label: vscode.workspace.asRelativePath(r.rootUri), repo: r })),
    { title: 'Review finetunes: which repository?' },
  );
  return picked?.repo;
}

async function pickBase(repo: GitRepository): Promise<string | undefined> {
  const head = repo.state.HEAD?.name;
  const refs = repo.getRefs ? await repo.getRefs({}) : repo.state.refs;
  const branches = refs
    .filter(
      (r) => BRANCH_TYPES.has(r.type) && r.name !== undefined && r.name !== head && !r.name.endsWith('/HEAD'),
    )
    .map((r) => r.name as string);
  const rank = (name: string) => {
    const i = LIKELY_BASES.indexOf(name);
    return i < 0 ? LIKELY_BASES.length : i;
  };
  const ordered = [...new Set(branches)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (ordered.length === 0) {
    void vscode.window.showErrorMessage(`The repository has no branch to compare ${head ?? 'HEAD'} against.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(ordered, {
    title: `Review finetunes in ${head ?? 'HEAD'}: against which branch?`,
    placeHolder: 'The branch the change goes into (the review starts from the merge base)',
  });
  return picked;
}
