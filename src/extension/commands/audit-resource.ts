// "Audit Checkpoint": from the explorer's context menu (one or several resources) or the palette
// (a quick pick of the workspace's checkpoints, or browse).
import * as vscode from 'vscode';
import { plural } from '../../audit/units';
import { CHECKPOINT_FILE_EXTENSIONS, folderKind } from '../../engine/checkpoint/classify';
import type { AuditService } from '../audit-service';
import type { AuditableFolders } from '../auditable-folders';
import { checkpointRoles, type RoledFolder } from '../checkpoint-roles';
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
  const roled = checkpointRoles(
    folders.list().map((path) => ({ path, kind: folderKind(path) ?? 'model-folder' })),
  );
  const folderItem = (f: RoledFolder): CheckpointPick => {
    const uri = vscode.Uri.file(f.path);
    const label = vscode.workspace.asRelativePath(uri);
    if (f.role === 'diff') return { label: `$(diff) ${label}`, description: 'diff (PEFT adapter)', uri };
    if (f.role === 'base')
      return {
        label: `$(database) ${label}`,
        description: `base model of ${plural(f.diffs ?? 0, 'diff')} here: audits itself, not a diff`,
        uri,
      };
    return { label: `$(folder) ${label}`, description: 'model folder (a full finetune or a base)', uri };
  };
  const diffs = roled.filter((f) => f.role === 'diff').map(folderItem);
  const models = roled.filter((f) => f.role !== 'diff').map(folderItem);
  // Files inside a checkpoint folder are that folder's weights: offer the folder only.
  const fileItems: CheckpointPick[] = files
    .filter((u) => !folders.containsFile(u.fsPath))
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
    .map((uri) => ({ label: `$(file-binary) ${vscode.workspace.asRelativePath(uri)}`, uri }));
  const browse: CheckpointPick = {
    label: '$(folder-opened) Browse…',
    description: 'a file or folder anywhere',
  };
  const section = (label: string, rows: CheckpointPick[]): CheckpointPick[] =>
    rows.length > 0 ? [{ label, kind: vscode.QuickPickItemKind.Separator }, ...rows] : [];
  // Diffs first, so that the row the quick pick preselects is one worth auditing.
  const items: CheckpointPick[] = [
    ...section('Diffs', diffs),
    ...section('Checkpoint files', fileItems),
    ...section('Models and bases', models),
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
