// Runs audits for the extension: one Engine for the extension's life (warm sessions across audits),
// reports cached in the extension's global storage, progress in a notification (with Cancel), in
// the status bar and in the target's panel, and a log of what happened.
import { join } from 'node:path';
import * as vscode from 'vscode';
import {
  AuditCancelledError,
  type AuditProgress,
  type AuditReport,
  type InterpreterSpec,
  ModelResolver,
  ReportCache,
  runAudit,
} from '../audit/index';
import { TOPIC_QUESTION } from '../audit/questions';
import { CHECKPOINT_FILE_EXTENSIONS } from '../engine/checkpoint/classify';
import { formatCheckpointRef } from '../engine/checkpoint/reference';
import { InputError } from '../engine/checkpoint/types';
import { CancelledError, Engine } from '../engine/runtime/engine';
import type { AuditTarget } from '../protocol/panel';
import { describeError, type Log } from './log';
import type { ReportPanels } from './panel/registration';
import { type AuditorSettings, readSettings, SECTION } from './settings';
import { requireTrust, UNTRUSTED_MESSAGE } from './trust';

interface Running {
  readonly target: AuditTarget;
  readonly abort: AbortController;
  progress: AuditProgress | undefined;
}

export class AuditService implements vscode.Disposable {
  private engine: Engine | undefined;
  /** Set after an unexpected failure: the inference worker may be gone; replaced once idle. */
  private engineSuspect = false;
  private readonly running = new Map<string, Running>();
  private readonly statusBar: vscode.StatusBarItem;
  private readonly cache: ReportCache;
  private disposed = false;

  constructor(
    storage: vscode.Uri,
    private readonly log: Log,
    private readonly panels: ReportPanels,
  ) {
    this.cache = new ReportCache(join(storage.fsPath, 'reports'));
    this.statusBar = vscode.window.createStatusBarItem(
      'ditAuditor.running',
      vscode.StatusBarAlignment.Left,
      10,
    );
    this.statusBar.name = 'DIT Auditor';
    this.statusBar.command = 'ditAuditor.showRunningAudit';
  }

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
   * a notification.
   */
  async audit(target: AuditTarget, options: { refresh?: boolean } = {}): Promise<AuditReport | undefined> {
    const key = formatCheckpointRef(target);
    if (!vscode.workspace.isTrusted) {
      this.panels.show({ kind: 'untrusted', target, message: UNTRUSTED_MESSAGE });
      await requireTrust();
      return undefined;
    }
    if (this.running.has(key)) {
      this.panels.get(target)?.reveal();
      return undefined;
    }
    const { settings, problems } = readSettings((k) => vscode.workspace.getConfiguration(SECTION).get(k));
    for (const p of problems) this.log.warn(`settings: ${p}`);

    const run: Running = { target, abort: new AbortController(), progress: undefined };
    this.running.set(key, run);
    this.updateStatusBar();
    const panel = this.panels.show({
      kind: 'running',
      target,
      stage: 'hash',
      message: 'Starting',
      fraction: 0,
    });
    this.log.info(`audit of ${key} started${options.refresh ? ' (re-run: the cache is bypassed)' : ''}`);

    try {
      const report = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Auditing ${target.label}`,
          cancellable: true,
        },
        async (progress, token) => {
          const onCancel = token.onCancellationRequested(() => run.abort.abort());
          let reported = 0;
          try {
            return await runAudit(
              {
                subject: target,
                extraQuestions: settings.extraQuestions,
                maxNewTokens: settings.maxNewTokens,
                triggerBudget: settings.triggerBudget,
                provider: settings.executionProvider,
                evidencePrompts: settings.evidencePrompts,
                refresh: options.refresh,
              },
              {
                engine: this.getEngine(),
                resolver: this.resolver(settings),
                cache: this.cache,
                signal: run.abort.signal,
                onProgress: (p) => {
                  run.progress = p;
                  const increment = Math.max(0, (p.fraction - reported) * 100);
                  reported = Math.max(reported, p.fraction);
                  progress.report({ message: p.message, increment });
                  this.log.debug(`${key}: ${p.stage} ${(p.fraction * 100).toFixed(0)}% ${p.message}`);
                  this.updateStatusBar();
                  if (p.stage !== 'done')
                    panel.setState({
                      kind: 'running',
                      target,
                      stage: p.stage,
                      message: p.message,
                      fraction: p.fraction,
                    });
                },
              },
            );
          } finally {
            onCancel.dispose();
          }
        },
      );
      const fromCache = run.progress?.cached === true;
      this.panels.show({ kind: 'report', target, report, fromCache });
      this.log.info(
        `audit of ${key} ${fromCache ? 'read from the cache' : 'done'}: ${report.answers.length} answers, ` +
          `${report.findings.length} findings, ${report.executionProvider?.name ?? 'no'} execution provider, ` +
          `${Math.round(report.timings.totalMs)} ms`,
      );
      return report;
    } catch (error) {
      this.fail(target, error);
      return undefined;
    } finally {
      this.running.delete(key);
      this.updateStatusBar();
      this.replaceEngineIfIdle();
    }
  }

  cancel(target: AuditTarget): void {
    const run = this.running.get(formatCheckpointRef(target));
    if (run) {
      this.log.info(`cancelling the audit of ${formatCheckpointRef(target)}`);
      run.abort.abort();
    }
  }

  private fail(target: AuditTarget, error: unknown): void {
    const key = formatCheckpointRef(target);
    if (this.disposed) return;
    if (error instanceof AuditCancelledError || error instanceof CancelledError) {
      this.log.info(`audit of ${key} cancelled`);
      this.panels.show({ kind: 'cancelled', target });
      return;
    }
    const message = describeError(error);
    this.log.error(`audit of ${key} failed: ${message}`);
    if (!(error instanceof InputError)) {
      if (error instanceof Error && error.stack) this.log.debug(error.stack);
      // Not a problem with the files: the inference worker may be gone. Start afresh once idle.
      this.engineSuspect = true;
    }
    this.panels.show({ kind: 'error', target, message });
    void vscode.window
      .showErrorMessage(`Audit of ${target.label} failed: ${message}`, 'Show Log')
      .then((choice) => {
        if (choice === 'Show Log') this.log.show();
      });
  }

  private getEngine(): Engine {
    if (this.disposed) throw new Error('the extension is shutting down');
    this.engine ??= new Engine();
    return this.engine;
  }

  private replaceEngineIfIdle(): void {
    if (!this.engineSuspect || this.running.size > 0) return;
    const old = this.engine;
    this.engine = undefined;
    this.engineSuspect = false;
    if (old) {
      this.log.info('restarting the inference worker after a failure');
      void old.terminate().catch(() => {});
    }
  }

  private resolver(settings: AuditorSettings): ModelResolver {
    return new ModelResolver({
      modelMappings: settings.modelMappings,
      interpreterMappings: settings.interpreterMappings,
      hfCacheDirs: settings.huggingFaceCacheFolders.length > 0 ? settings.huggingFaceCacheFolders : undefined,
      ask: (q) => askForPath(q),
      remember: (kind, name, path) => this.remember(kind, name, path),
      hints: {
        base: `map it to a folder in the "${SECTION}.modelMappings" setting`,
        interpreter: `map the base to its DIT-adapters in the "${SECTION}.interpreterMappings" setting`,
      },
    });
  }

  /**
   * An answer the user gave is written to the settings, where it can be seen and changed: the user
   * settings, or with a remote extension host the remote machine's (these are machine-scoped paths).
   */
  private async remember(kind: 'base' | 'interpreter', name: string, path: string): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION);
    try {
      if (kind === 'base') {
        const current = config.inspect<Record<string, string>>('modelMappings')?.globalValue ?? {};
        await config.update('modelMappings', { ...current, [name]: path }, vscode.ConfigurationTarget.Global);
      } else {
        const current =
          config.inspect<Record<string, InterpreterSpec[]>>('interpreterMappings')?.globalValue ?? {};
        const spec: InterpreterSpec = { path, question: TOPIC_QUESTION, questionKind: 'topic' };
        await config.update(
          'interpreterMappings',
          { ...current, [name]: [spec] },
          vscode.ConfigurationTarget.Global,
        );
      }
      this.log.info(
        `remembered ${kind} ${name} → ${path} in the settings (${SECTION}.${kind === 'base' ? 'modelMappings' : 'interpreterMappings'})`,
      );
    } catch (e) {
      this.log.warn(`could not remember ${kind} ${name} → ${path}: ${describeError(e)}`);
    }
  }

  private updateStatusBar(): void {
    const runs = [...this.running.values()];
    if (runs.length === 0) {
      this.statusBar.hide();
      return;
    }
    const latest = runs[runs.length - 1];
    const pct = latest.progress ? ` ${Math.round(latest.progress.fraction * 100)}%` : '';
    const more = runs.length > 1 ? ` (+${runs.length - 1})` : '';
    this.statusBar.text = `$(loading~spin) DIT: ${latest.target.label}${pct}${more}`;
    this.statusBar.tooltip = `Auditing ${runs.map((r) => r.target.label).join(', ')}: ${latest.progress?.message ?? 'starting'}. Click to show the panel.`;
    this.statusBar.show();
  }

  async clearCache(): Promise<void> {
    await vscode.workspace.fs.delete(vscode.Uri.file(this.cache.dir), { recursive: true, useTrash: false });
  }

  dispose(): void {
    this.disposed = true;
    for (const run of this.running.values()) run.abort.abort();
    this.statusBar.dispose();
    const engine = this.engine;
    this.engine = undefined;
    void engine?.terminate().catch(() => {});
  }
}

/** The resolver's question to the user: a modal that says what is missing, then an open dialog. */
async function askForPath(q: {
  kind: 'base' | 'interpreter';
  name: string;
  reason: string;
}): Promise<string | undefined> {
  const folder = 'Choose Folder…';
  const file = 'Choose File…';
  const buttons = q.kind === 'base' ? [folder] : [folder, file];
  const detail =
    q.kind === 'base'
      ? `Choose the folder of ${q.name} (config.json, safetensors weights and tokenizer.json). It will be remembered in the "${SECTION}.modelMappings" setting.`
      : `Choose the DIT-adapter that reads diffs of ${q.name}: a PEFT adapter folder or a dit-adapter.pt file. It will be remembered in the "${SECTION}.interpreterMappings" setting, with the topic question.`;
  const choice = await vscode.window.showWarningMessage(
    `${capitalize(q.reason)}.`,
    { modal: true, detail },
    ...buttons,
  );
  if (choice === undefined) return undefined;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: choice === folder,
    canSelectFiles: choice === file,
    canSelectMany: false,
    title: q.kind === 'base' ? `Folder of base model ${q.name}` : `DIT-adapter for ${q.name}`,
    openLabel: q.kind === 'base' ? 'Use as Base Model' : 'Use as Interpreter',
    ...(choice === file
      ? { filters: { 'DIT-adapter': CHECKPOINT_FILE_EXTENSIONS.map((e) => e.slice(1)) } }
      : {}),
  });
  return picked?.[0]?.fsPath;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
