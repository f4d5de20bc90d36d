// The extension's entry point: build the services, register the commands, nothing else. No model
// is loaded here; the inference worker starts with the first audit and lives until deactivation.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ReportCache } from '../audit/index';
import { AuditService } from './audit-service';
import { AuditableFolders } from './auditable-folders';
import { registerAuditActiveEditor } from './commands/audit-active-editor';
import { registerAuditDemo } from './commands/audit-demo';
import { registerAuditResource } from './commands/audit-resource';
import { registerCheckpointActions } from './commands/checkpoint-actions';
import { registerClearReportCache } from './commands/clear-report-cache';
import { registerInstallCudaProvider } from './commands/install-cuda-provider';
import { registerClearOpenAiKey, registerSetOpenAiKey } from './commands/openai-key';
import { registerReviewBranch } from './commands/review-branch';
import { registerShowLog } from './commands/show-log';
import { registerShowRunningAudit } from './commands/show-running-audit';
import { EngineHolder } from './engine-holder';
import { EvidenceDiffs } from './evidence-diff';
import { createLog, type Log } from './log';
import { ReportPanels } from './panel/registration';
import { ReportPanelActions } from './panel-actions';
import { PickleScanner } from './pickles/pickle-scanner';
import { PickleScanClient } from './pickles/scan-client';
import { AutoAudit } from './references/auto-audit';
import { CheckpointDecorations } from './references/checkpoint-decorations';
import { CheckpointStatuses } from './references/checkpoint-statuses';
import { registerReferenceActions } from './references/reference-actions';
import { ReferenceDiagnostics } from './references/reference-diagnostics';
import { registerReferenceHover } from './references/reference-hover';
import { ReviewPanel } from './review/review-panel';
import { ReviewService } from './review/review-service';
import { Secrets } from './secrets';
import { watchSettings } from './settings-watcher';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog();
  const panels = new ReportPanels(context.extensionUri, log);
  const engine = new EngineHolder(log);
  const cache = new ReportCache(join(context.globalStorageUri.fsPath, 'reports'));
  const secrets = new Secrets(context.secrets);
  const audits = new AuditService(engine, cache, log, panels, secrets);
  const reviewPanel = new ReviewPanel(context.extensionUri, log);
  const reviews = new ReviewService(engine, cache, log, reviewPanel, secrets);
  const diffs = new EvidenceDiffs();
  panels.setActions(new ReportPanelActions(audits, log, diffs));
  const folders = new AuditableFolders(log);

  context.subscriptions.push(
    panels,
    diffs,
    audits,
    reviewPanel,
    engine,
    folders,
    registerAuditResource(audits, folders, log),
    registerAuditActiveEditor(audits, log),
    registerAuditDemo(audits, log),
    registerReviewBranch(reviews, log),
    registerSetOpenAiKey(secrets, log),
    registerClearOpenAiKey(secrets, log),
    registerShowLog(log),
    registerClearReportCache(audits, log),
    registerInstallCudaProvider(log),
    registerShowRunningAudit(audits, panels),
    watchSettings(log),
    log,
  );
  void folders.refresh();
  const pickles = new PickleScanner(new PickleScanClient(join(context.extensionUri.fsPath, 'dist')), log);
  context.subscriptions.push(pickles);
  void pickles.scanWorkspace();
  context.subscriptions.push(...inlineWarnings(cache, audits, panels, folders, log));
  log.info(
    `DIT Auditor ${context.extension.packageJSON.version} active; workspace ${vscode.workspace.isTrusted ? 'trusted' : 'restricted: audits are off'}`,
  );
}

/** What an audit found, where checkpoints are named (diagnostics, hovers, quick fixes) and lie (explorer badges). */
function inlineWarnings(
  cache: ReportCache,
  audits: AuditService,
  panels: ReportPanels,
  folders: AuditableFolders,
  log: Log,
): vscode.Disposable[] {
  const statuses = new CheckpointStatuses(cache);
  const references = new ReferenceDiagnostics(statuses, log);
  references.refreshAll();
  return [
    statuses,
    audits.onDidAudit(() => statuses.invalidate()),
    audits.onDidClearCache(() => statuses.invalidate()),
    references,
    registerReferenceHover(references, log),
    registerReferenceActions(references),
    registerCheckpointActions(audits, panels, statuses, log),
    new CheckpointDecorations(statuses, folders, log),
    new AutoAudit(audits, statuses, references, log),
  ];
}

export function deactivate(): void {
  // Everything, the inference worker included, is disposed through context.subscriptions.
}
