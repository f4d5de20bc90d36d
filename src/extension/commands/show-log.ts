// "Show Log": the extension's output channel.
import * as vscode from 'vscode';
import type { Log } from '../log';

export function registerShowLog(log: Log): vscode.Disposable {
  return vscode.commands.registerCommand('ditAuditor.showLog', () => log.show(true));
}
