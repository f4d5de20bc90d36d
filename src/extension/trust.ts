// Workspace trust: an audit reads model files and runs them, and a workspace's settings choose
// which files (mappings). In a restricted workspace audits are off, and every entry point says why.
import * as vscode from 'vscode';

export const UNTRUSTED_MESSAGE =
  'Audits are off in Restricted Mode: an audit reads checkpoint files (including pickles) and runs ' +
  "them, and this workspace's settings choose which files. Trust the workspace to audit.";

/** True when audits may run; otherwise tells the user why not and offers to manage trust. */
export async function requireTrust(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const choice = await vscode.window.showWarningMessage(UNTRUSTED_MESSAGE, manage);
  if (choice === manage) await manageTrust();
  return false;
}

export function manageTrust(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.trust.manage');
}
