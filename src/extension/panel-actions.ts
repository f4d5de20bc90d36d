// What the report panel's buttons do.
import { relative } from 'node:path';
import * as vscode from 'vscode';
import { type AuditReport, renderReportMarkdown } from '../audit/index';
import type { AuditTarget, RevealWhich } from '../protocol/panel';
import type { AuditService } from './audit-service';
import { INSTALL_CUDA_PROVIDER_COMMAND } from './commands/install-cuda-provider';
import type { EvidenceDiffs } from './evidence-diff';
import { describeError, type Log } from './log';
import type { PanelActions } from './panel/registration';
import type { ReportPanel } from './panel/report-panel';
import { manageTrust } from './trust';

export class ReportPanelActions implements PanelActions {
  constructor(
    private readonly audits: AuditService,
    private readonly log: Log,
    private readonly diffs: EvidenceDiffs,
  ) {}

  rerun(target: AuditTarget): void {
    void this.audits.audit(target, { refresh: true });
  }

  cancel(target: AuditTarget): void {
    this.audits.cancel(target);
  }

  copyMarkdown(panel: ReportPanel, report: AuditReport): void {
    vscode.env.clipboard.writeText(renderReportMarkdown(report)).then(
      () => panel.notice('Copied the report to the clipboard as Markdown.'),
      (e: unknown) => this.failed('copying the report', e),
    );
  }

  exportJson(panel: ReportPanel, report: AuditReport): void {
    void (async () => {
      const name = `${report.subject.name}${report.subject.entry === undefined ? '' : `-${report.subject.entry}`}`;
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const uri = await vscode.window.showSaveDialog({
        title: 'Export the audit report as JSON',
        saveLabel: 'Export',
        filters: { 'JSON report': ['json'] },
        ...(folder
          ? { defaultUri: vscode.Uri.joinPath(folder, `${safeFileName(name)}.dit-audit.json`) }
          : {}),
      });
      if (uri === undefined) return;
      await vscode.workspace.fs.writeFile(
        uri,
        new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`),
      );
      this.log.info(`exported the report of ${report.subject.path} to ${uri.toString()}`);
      panel.notice(`Saved ${vscode.workspace.asRelativePath(uri)}.`);
    })().catch((e: unknown) => this.failed('exporting the report', e));
  }

  reveal(report: AuditReport, which: RevealWhich, index?: number): void {
    const path =
      which === 'subject'
        ? report.subject.path
        : which === 'base'
          ? report.base?.path
          : index === undefined
            ? undefined
            : report.interpreters[index]?.path;
    if (path === undefined) return;
    void revealPath(path).catch((e: unknown) => this.failed(`revealing ${path}`, e));
  }

  showLog(): void {
    this.log.show(true);
  }

  manageTrust(): void {
    void manageTrust();
  }

  openDiff(report: AuditReport, index: number): void {
    this.diffs.open(report, index).catch((e: unknown) => this.failed('opening the diff editor', e));
  }

  installCudaProvider(): void {
    void vscode.commands.executeCommand(INSTALL_CUDA_PROVIDER_COMMAND);
  }

  private failed(what: string, e: unknown): void {
    this.log.error(`${what} failed: ${describeError(e)}`);
    void vscode.window.showErrorMessage(`${capitalize(what)} failed: ${describeError(e)}`);
  }
}

/** In the explorer when the path is in the workspace, else in the OS file manager (desktop) or by its path. */
async function revealPath(path: string): Promise<void> {
  const uri = vscode.Uri.file(path);
  const inWorkspace = vscode.workspace.workspaceFolders?.some((f) => {
    const rel = relative(f.uri.fsPath, path);
    return f.uri.scheme === 'file' && !rel.startsWith('..') && !rel.startsWith('/');
  });
  if (inWorkspace) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return;
  }
  if (vscode.env.remoteName === undefined && vscode.env.uiKind === vscode.UIKind.Desktop) {
    await vscode.commands.executeCommand('revealFileInOS', uri);
    return;
  }
  const copy = 'Copy Path';
  const choice = await vscode.window.showInformationMessage(`${path} is outside the workspace.`, copy);
  if (choice === copy) await vscode.env.clipboard.writeText(path);
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || 'report';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
