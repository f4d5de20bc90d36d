// "Audit Checkpoint": from the explorer's context menu (one or several resources) or the palette
// (a quick pick of the workspace's checkpoints, or browse).
import * as vscode from 'vscode';
import { CHECKPOINT_FILE_EXTENSIONS } from '../../engine/checkpoint/classify';
import type { AuditService } from '../audit-service';
import type { AuditableFolders } from '../auditable-folders';
import type { Log } from '../log';
import { targetFromUri } from '../target-picker';
import { requireTrust } from '../trust';

export const AUDIT_COMMAND = 'ditAuditor.audit';

export function registerAuditResource(
  audits: AuditService,
  folders: AuditableFolders,
  log: Log,
): vscode.Disposable {
  return vscode.commands.registerCommand(AUDIT_COMMAND, async (resource?: unknown, selected?: unknown) => {
    if (!(await requireTrust())) return;
    const uris = urisFromArgs(resource, selected) ?? (await pickCheckpoint(folders));
    if (uris === undefined) return;
    // Resolve every target first (quick picks), then audit them in turn.
    const targets = [];
    for (const uri of uris) {
      const target = await targetFromUri(uri, log);
      if (target) targets.push(target);
    }
    await Promise.all(targets.map((t) => audits.audit(t)));
  });
}

/** The explorer passes (clicked, allSelected); a keybinding or the palette passes nothing. */
function urisFromArgs(resource: unknown, selected: unknown): vscode.Uri[] | undefined {
  if (Array.isArray(selected) && selected.length > 0 && selected.every((u) => u instanceof vscode.Uri))
    return selected;
  if (resource instanceof vscode.Uri) return [resource];
  return undefined;
}

type CheckpointPick = vscode.QuickPickItem & { uri?: vscode.Uri };

async function pickCheckpoint(folders: AuditableFolders): Promise<vscode.Uri[] | undefined> {
  await folders.refresh();
  const files = await vscode.workspace.findFiles(
    `**/*.{${CHECKPOINT_FILE_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`,
    '**/{node_modules,.git,.venv,venv}/**',
    2000,
  );
  const folderItems: CheckpointPick[] = folders.list().map((p) => {
    const uri = vscode.Uri.file(p);
    return { label: `$(folder) ${vscode.workspace.asRelativePath(uri)}`, uri };
  });
  // Files inside a checkpoint folder are that folder's weights: offer the folder only.
  const fileItems: CheckpointPick[] = files
    .filter((u) => !folders.containsFile(u.fsPath))
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
    .map((uri) => ({ label: `$(file-binary) ${vscode.workspace.asRelativePath(uri)}`, uri }));
  const browse: CheckpointPick = {
    label: '$(folder-opened) Browse…',
    description: 'a file or folder anywhere',
  };
  const items: CheckpointPick[] = [
    ...(folderItems.length > 0
      ? [{ label: 'Checkpoint folders', kind: vscode.QuickPickItemKind.Separator }]
      : []),
    ...folderItems,
    ...(fileItems.length > 0
      ? [{ label: 'Checkpoint files', kind: vscode.QuickPickItemKind.Separator }]
      : []),
    ...fileItems,
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    browse,
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Audit a checkpoint',
    placeHolder: `A diff to audit: PEFT adapter folder, model folder, ${CHECKPOINT_FILE_EXTENSIONS.join(' / ')}`,
    matchOnDescription: true,
  });
  if (picked === undefined) return undefined;
  if (picked.uri) return [picked.uri];
  const chosen = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    title: 'Checkpoint to audit',
    openLabel: 'Audit',
  });
  return chosen;
}
