// Runs branch reviews for the extension: the same review core as `dit-audit review`, on the shared
// engine and report cache (or the remote engine the settings name), with progress in a
// notification (with Cancel) and in the review panel.
import * as vscode from 'vscode';
import { AuditCancelledError, type ReportCache } from '../../audit/index';
import { type Review, runReview } from '../../audit/review/run-review';
import { plural } from '../../audit/units';
import { CancelledError } from '../../engine/runtime/engine';
import { currentSettings } from '../current-settings';
import type { EngineHolder } from '../engine-holder';
import { describeError, type Log } from '../log';
import { remoteEndpointOf } from '../remote-endpoint';
import type { Secrets } from '../secrets';
import { auditTuning } from '../settings';
import { resolverFor } from '../settings-resolver';
import { requireTrust } from '../trust';
import type { ReviewPanel } from './review-panel';

export class ReviewService {
  constructor(
    private readonly engine: EngineHolder,
    private readonly cache: ReportCache,
    private readonly log: Log,
    private readonly panel: ReviewPanel,
    private readonly secrets: Secrets,
  ) {}

  /** Reviews what `head` changes since its merge base with `base`, in the repository at `root`. */
  async review(root: string, base: string, head = 'HEAD'): Promise<Review | undefined> {
    if (!vscode.workspace.isTrusted) {
      await requireTrust();
      return undefined;
    }
    const settings = currentSettings(this.log);
    const title = `Review: ${head} against ${base}`;
    this.panel.show({
      kind: 'running',
      title,
      message: 'Finding the checkpoints the branch changes',
      fraction: 0,
    });
    const remote = await remoteEndpointOf(settings, this.secrets);
    this.log.info(
      `review of ${root}: ${head} against ${base} started${remote ? `; the models run on ${remote.baseURL}` : ''}`,
    );
    try {
      const review = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const onCancel = token.onCancellationRequested(() => abort.abort());
          let current = '';
          try {
            return await runReview(
              { repo: root, base, head, audit: auditTuning(settings) },
              {
                engine: this.engine.get(),
                resolver: resolverFor(settings, this.log),
                cache: this.cache,
                signal: abort.signal,
                ...(remote ? { remote } : {}),
                onProgress: (p) =>
                  this.panel.show({
                    kind: 'running',
                    title,
                    message: `${current}: ${p.message}`,
                    fraction: p.fraction,
                  }),
              },
              (c, version) => {
                current = `${c.path} (${version} version)`;
                progress.report({ message: current });
              },
            );
          } finally {
            onCancel.dispose();
          }
        },
      );
      this.panel.show({ kind: 'done', title, review });
      this.log.info(`review of ${root} done: ${plural(review.checkpoints.length, 'checkpoint')} changed`);
      return review;
    } catch (error) {
      const cancelled = error instanceof AuditCancelledError || error instanceof CancelledError;
      const message = cancelled ? 'cancelled' : describeError(error);
      this.log.error(`review of ${root} ${cancelled ? 'cancelled' : `failed: ${message}`}`);
      this.panel.show({ kind: 'error', title, message });
      if (!cancelled) void vscode.window.showErrorMessage(`The review failed: ${message}`);
      return undefined;
    }
  }
}
