// The status bar item's command: bring the running audit's panel to the front.
import * as vscode from 'vscode';
import type { AuditService } from '../audit-service';
import type { ReportPanels } from '../panel/registration';

export function registerShowRunningAudit(audits: AuditService, panels: ReportPanels): vscode.Disposable {
  return vscode.commands.registerCommand('ditAuditor.showRunningAudit', () => {
    const target = audits.latestRunning();
    if (target) panels.get(target)?.reveal();
  });
}
