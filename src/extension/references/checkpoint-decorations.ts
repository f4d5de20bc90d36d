// Badges on checkpoints in the explorer (PEFT adapter and model folders, torch files): a verified
// hidden behaviour, an error, a described behaviour, clean, or not audited, from what the report
// cache knows. Unsafe pickles carry the pickle scanner's badge, not a second one.
import * as vscode from 'vscode';
import { type BadgeTone, checkpointBadgeOf } from '../../audit/references/inline-warning';
import { type Checkpoint, folderKind, isTorchFile } from '../../engine/checkpoint/classify';
import type { AuditableFolders } from '../auditable-folders';
import { currentSettings } from '../current-settings';
import type { Log } from '../log';
import { SECTION } from '../settings';
import type { CheckpointStatuses } from './checkpoint-statuses';

const COLOURS: Record<BadgeTone, string | undefined> = {
  error: 'list.errorForeground',
  warning: 'list.warningForeground',
  described: 'editorInfo.foreground',
  clean: 'testing.iconPassed',
  'not-audited': undefined,
};

export class CheckpointDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly statuses: CheckpointStatuses,
    private readonly folders: AuditableFolders,
    private readonly log: Log,
  ) {
    const refresh = () => this.changed.fire(undefined);
    this.disposables.push(
      this.changed,
      vscode.window.registerFileDecorationProvider(this),
      statuses.onDidChange(refresh),
      folders.onDidChange(refresh),
      vscode.workspace.onDidGrantWorkspaceTrust(refresh),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.explorerBadges`)) refresh();
      }),
    );
  }

  async provideFileDecoration(uri: vscode.Uri): Promise<vscode.FileDecoration | undefined> {
    if (uri.scheme !== 'file' || !vscode.workspace.isTrusted) return undefined;
    const checkpoint = this.checkpointAt(uri.fsPath);
    if (!checkpoint || !currentSettings(this.log).explorerBadges) return undefined;
    const status = await this.statuses.statusOf({ path: checkpoint.path }, checkpoint);
    const badge = status.kind === 'unsafe' ? undefined : checkpointBadgeOf(status);
    if (!badge) return undefined;
    const colour = COLOURS[badge.tone];
    return new vscode.FileDecoration(
      badge.badge,
      badge.tooltip,
      colour ? new vscode.ThemeColor(colour) : undefined,
    );
  }

  private checkpointAt(fsPath: string): Checkpoint | undefined {
    if (isTorchFile(fsPath)) return { kind: 'torch-file', path: fsPath };
    if (!this.folders.has(fsPath)) return undefined;
    const kind = folderKind(fsPath);
    return kind && { kind, path: fsPath };
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
