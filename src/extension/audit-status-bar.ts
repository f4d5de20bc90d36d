// The status bar item while audits run: the latest one's label and progress, and how many more.
import * as vscode from 'vscode';
import type { AuditProgress } from '../audit/index';
import type { AuditTarget } from '../protocol/panel';

export interface RunningAudit {
  readonly target: AuditTarget;
  readonly progress: AuditProgress | undefined;
}

export class AuditStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('ditAuditor.running', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'DIT Auditor';
    this.item.command = 'ditAuditor.showRunningAudit';
  }

  show(runs: readonly RunningAudit[]): void {
    const latest = runs.at(-1);
    if (latest === undefined) {
      this.item.hide();
      return;
    }
    const pct = latest.progress ? ` ${Math.round(latest.progress.fraction * 100)}%` : '';
    const more = runs.length > 1 ? ` (+${runs.length - 1})` : '';
    this.item.text = `$(loading~spin) DIT: ${latest.target.label}${pct}${more}`;
    this.item.tooltip = `Auditing ${runs.map((r) => r.target.label).join(', ')}: ${latest.progress?.message ?? 'starting'}. Click to show the panel.`;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
