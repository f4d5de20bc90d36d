// Runs audits for the extension: reports cached in the extension's global storage, progress in a
// notification (with Cancel), in the status bar and in the target's panel, and a log of what
// happened. The engine, the status bar and the resolver's settings live in their own units.
import * as vscode from 'vscode';
import {
  AuditCancelledError,
  type AuditProgress,
  type AuditReport,
  type ReportCache,
  runAudit,
} from '../audit/index';
import { plural } from '../audit/units';
import { formatCheckpointRef } from '../engine/checkpoint/reference';
import { InputError } from '../engine/checkpoint/types';
import { CancelledError } from '../engine/runtime/engine';
import type { AuditTarget } from '../protocol/panel';
import { AuditStatusBar } from './audit-status-bar';
import { currentSettings } from './current-settings';
import type { EngineHolder } from './engine-holder';
import { describeError, type Log } from './log';
import type { ReportPanels } from './panel/registration';
import type { ReportPanel } from './panel/report-panel';
import { remoteEndpointOf } from './remote-endpoint';
import type { Secrets } from './secrets';
import { auditTuning } from './settings';
import { resolverFor } from './settings-resolver';
import { requireTrust, UNTRUSTED_MESSAGE } from './trust';

interface Running {
  readonly target: AuditTarget;
  readonly abort: AbortController;
  progress: AuditProgress | undefined;
}

export class AuditService implements vscode.Disposable {
  private readonly running = new Map<string, Running>();
  private readonly statusBar = new AuditStatusBar();
  private readonly audited = new vscode.EventEmitter<AuditReport>();
  /** Fires with each report an audit produced or read from the cache. */
  readonly onDidAudit = this.audited.event;
  private readonly cleared = new vscode.EventEmitter<void>();
  readonly onDidClearCache = this.cleared.event;
  private disposed = false;

  constructor(
    private readonly engine: EngineHolder,
    private readonly cache: ReportCache,
    private readonly log: Log,
    private readonly panels: ReportPanels,
    private readonly secrets: Secrets,
  ) {}

  get cacheFolder(): string {
    return this.cache.dir;
  }

  /** The target of an audit in progress (the most recent one), for the status bar's command. */
  latestRunning(): AuditTarget | undefined {
    return [...this.running.values()].at(-1)?.target;
  }

  /**
   * Audits `target` and shows the report in its panel. A second request for a target already
   * being audited reveals that audit's panel instead. Never throws: failures end in the panel and
   * a notification. `background`: no panel opens and progress shows in the status bar only (an
   * automatic audit); a panel already open for the target still follows it.
   */
  async audit(
    target: AuditTarget,
    options: { refresh?: boolean; background?: boolean } = {},
  ): Promise<AuditReport | undefined> {
    const key = formatCheckpointRef(target);
    if (!vscode.workspace.isTrusted) {
      this.panels.show({ kind: 'untrusted', target, message: UNTRUSTED_MESSAGE });
      await requireTrust();
      return undefined;
    }
    if (this.running.has(key)) {
      if (!options.background) this.panels.get(target)?.reveal();
      return undefined;
    }
    const run: Running = { target, abort: new AbortController(), progress: undefined };
    this.running.set(key, run);
    this.updateStatusBar();
    const starting = { kind: 'running', target, stage: 'hash', message: 'Starting', fraction: 0 } as const;
    const panel = options.background ? this.panels.get(target) : this.panels.show(starting);
    this.log.info(
      `${options.background ? 'automatic ' : ''}audit of ${key} started${options.refresh ? ' (re-run: the cache is bypassed)' : ''}`,
    );
    try {
      const report = await vscode.window.withProgress(
        {
          location: options.background
            ? vscode.ProgressLocation.Window
            : vscode.ProgressLocation.Notification,
          title: `Auditing ${target.label}`,
          cancellable: true,
        },
        async (progress, token) => {
          const onCancel = token.onCancellationRequested(() => run.abort.abort());
          try {
            return await this.run(run, panel, options.refresh, (p, increment) =>
              progress.report({ message: p.message, increment }),
            );
          } finally {
            onCancel.dispose();
          }
        },
      );
      const fromCache = run.progress?.cached === true;
      if (!options.background || this.panels.get(target))
        this.panels.show({ kind: 'report', target, report, fromCache });
      this.audited.fire(report);
      this.log.info(
        `audit of ${key} ${fromCache ? 'read from the cache' : 'done'}: ${plural(report.answers.length, 'answer')}, ` +
          `${plural(report.findings.length, 'finding')}, ${report.executionProvider?.name ?? 'no'} execution provider, ` +
          `${Math.round(report.timings.totalMs)} ms`,
      );
      return report;
    } catch (error) {
      this.fail(target, error, options.background === true);
      return undefined;
    } finally {
      this.running.delete(key);
      this.updateStatusBar();
      this.engine.replaceIfSuspect(this.running.size > 0);
    }
  }

  cancel(target: AuditTarget): void {
    const key = formatCheckpointRef(target);
    const run = this.running.get(key);
    if (run) {
      this.log.info(`cancelling the audit of ${key}`);
      run.abort.abort();
    }
  }

  /** One audit with the settings as they are now; progress goes to the notification, the log and the panel. */
  private async run(
    run: Running,
    panel: ReportPanel | undefined,
    refresh: boolean | undefined,
    notify: (p: AuditProgress, increment: number) => void,
  ): Promise<AuditReport> {
    const settings = currentSettings(this.log);
    const { target } = run;
    const key = formatCheckpointRef(target);
    let reported = 0;
    const remote = await remoteEndpointOf(settings, this.secrets);
    if (remote) this.log.info(`${key}: the models run on ${remote.baseURL} (ditAuditor.remoteEngine.url)`);
    return runAudit(
      { ...auditTuning(settings), subject: target, refresh },
      {
        engine: this.engine.get(),
        resolver: resolverFor(settings, this.log),
        cache: this.cache,
        signal: run.abort.signal,
        ...(remote ? { remote } : {}),
        onProgress: (p) => {
          run.progress = p;
          notify(p, Math.max(0, (p.fraction - reported) * 100));
          reported = Math.max(reported, p.fraction);
          this.log.debug(`${key}: ${p.stage} ${(p.fraction * 100).toFixed(0)}% ${p.message}`);
          this.updateStatusBar();
          if (p.stage !== 'done')
            panel?.setState({
              kind: 'running',
              target,
              stage: p.stage,
              message: p.message,
              fraction: p.fraction,
            });
        },
      },
    );
  }

  private fail(target: AuditTarget, error: unknown, background: boolean): void {
    const key = formatCheckpointRef(target);
    if (this.disposed) return;
    if (error instanceof AuditCancelledError || error instanceof CancelledError) {
      this.log.info(`audit of ${key} cancelled`);
      if (!background || this.panels.get(target)) this.panels.show({ kind: 'cancelled', target });
      return;
    }
    const message = describeError(error);
    this.log.error(`audit of ${key} failed: ${message}`);
    if (!(error instanceof InputError)) {
      if (error instanceof Error && error.stack) this.log.debug(error.stack);
      // Not a problem with the files: the inference worker may be gone. Start afresh once idle.
      this.engine.markSuspect();
    }
    if (background && !this.panels.get(target)) return;
    this.panels.show({ kind: 'error', target, message });
    void vscode.window
      .showErrorMessage(`Audit of ${target.label} failed: ${message}`, 'Show Log')
      .then((choice) => {
        if (choice === 'Show Log') this.log.show();
      });
  }

  private updateStatusBar(): void {
    this.statusBar.show([...this.running.values()]);
  }

  async clearCache(): Promise<void> {
    await vscode.workspace.fs.delete(vscode.Uri.file(this.cache.dir), { recursive: true, useTrash: false });
    this.cleared.fire();
  }

  dispose(): void {
    this.disposed = true;
    for (const run of this.running.values()) run.abort.abort();
    this.statusBar.dispose();
    this.audited.dispose();
    this.cleared.dispose();
  }
}
