// "Clear Cached Reports": every audit runs again next time.
import * as vscode from 'vscode';
import type { AuditService } from '../audit-service';
import { describeError, type Log } from '../log';

export function registerClearReportCache(audits: AuditService, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand('ditAuditor.clearReportCache', async () => {
    try {
      await audits.clearCache();
      log.info(`cleared the report cache (${audits.cacheFolder})`);
      void vscode.window.showInformationMessage('Cached audit reports cleared.');
    } catch (e) {
      if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') {
        void vscode.window.showInformationMessage('There were no cached audit reports.');
        return;
      }
      log.error(`clearing the report cache failed: ${describeError(e)}`);
      void vscode.window.showErrorMessage(`Clearing the report cache failed: ${describeError(e)}`);
    }
  });
}
