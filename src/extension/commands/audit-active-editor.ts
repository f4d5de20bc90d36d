// "Audit the Active Editor's Checkpoint": the file of the active tab (a binary .safetensors or .pt
// shows in an editor too), or the folder of an open adapter_config.json / config.json.
import * as vscode from 'vscode';
import type { AuditService } from '../audit-service';
import type { Log } from '../log';
import { targetFromUri } from '../target-picker';
import { requireTrust } from '../trust';

export const AUDIT_ACTIVE_EDITOR_COMMAND = 'ditAuditor.auditActiveEditor';

export function registerAuditActiveEditor(audits: AuditService, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand(AUDIT_ACTIVE_EDITOR_COMMAND, async (resource?: unknown) => {
    if (!(await requireTrust())) return;
    // editor/title passes the editor's resource; the palette passes nothing.
    const uri = resource instanceof vscode.Uri ? resource : activeTabUri();
    if (uri === undefined) {
      void vscode.window.showInformationMessage('Open a checkpoint file (or its adapter_config.json) first.');
      return;
    }
    const target = await targetFromUri(uri, log);
    if (target) await audits.audit(target);
  });
}

function activeTabUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (
    input instanceof vscode.TabInputText ||
    input instanceof vscode.TabInputCustom ||
    input instanceof vscode.TabInputNotebook
  )
    return input.uri;
  return vscode.window.activeTextEditor?.document.uri;
}
