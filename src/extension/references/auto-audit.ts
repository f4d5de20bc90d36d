// With `ditAuditor.autoAudit` on, a checkpoint that an open file names, or that appears in the
// workspace, and that has no report yet is audited in the background, one at a time. Each is tried
// once per session: a failure (say, no base model known) is logged, not retried in a loop.
import * as vscode from 'vscode';
import { type Checkpoint, folderKind, isTorchFile } from '../../engine/checkpoint/classify';
import { type CheckpointRef, formatCheckpointRef } from '../../engine/checkpoint/reference';
import type { AuditService } from '../audit-service';
import type { AuditableFolders } from '../auditable-folders';
import { currentSettings } from '../current-settings';
import type { Log } from '../log';
import { makeTarget } from '../targets';
import type { CheckpointStatuses } from './checkpoint-statuses';
import type { ReferenceDiagnostics } from './reference-diagnostics';

export class AutoAudit implements vscode.Disposable {
  private readonly tried = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];
  private knownFolders: ReadonlySet<string>;

  constructor(
    private readonly audits: AuditService,
    private readonly statuses: CheckpointStatuses,
    folders: AuditableFolders,
    references: ReferenceDiagnostics,
    private readonly log: Log,
  ) {
    this.knownFolders = new Set(folders.list());
    const torchFiles = vscode.workspace.createFileSystemWatcher('**/*.{pt,pth,bin,ckpt}', false, true, true);
    this.disposables.push(
      torchFiles,
      torchFiles.onDidCreate((uri) => {
        if (uri.scheme === 'file' && isTorchFile(uri.fsPath))
          this.consider({ path: uri.fsPath }, { kind: 'torch-file', path: uri.fsPath });
      }),
      folders.onDidChange(() => {
        const now = folders.list();
        for (const dir of now.filter((d) => !this.knownFolders.has(d))) {
          const kind = folderKind(dir);
          if (kind) this.consider({ path: dir }, { kind, path: dir });
        }
        this.knownFolders = new Set(now);
      }),
      references.onDidLocate((r) => {
        if (r.status.kind === 'not-audited') this.consider(r.resolved.ref, r.resolved.checkpoint);
      }),
    );
  }

  private consider(ref: CheckpointRef, checkpoint: Checkpoint): void {
    const key = formatCheckpointRef(ref);
    if (!vscode.workspace.isTrusted || this.tried.has(key) || !currentSettings(this.log).autoAudit) return;
    this.tried.add(key);
    this.queue = this.queue.then(async () => {
      const status = await this.statuses.statusOf(ref, checkpoint);
      if (status.kind !== 'not-audited') return;
      this.log.info(`auditing ${key} automatically (ditAuditor.autoAudit)`);
      await this.audits.audit(makeTarget(ref), { background: true });
    });
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
