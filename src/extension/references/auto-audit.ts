// With `ditAuditor.autoAudit` on, a checkpoint that an open file names, or that appears or changes
// in the workspace, and that has no report yet is audited in the background, one at a time. Files
// being written settle first (a training run writes a checkpoint over seconds). Each checkpoint
// is audited at most once per session: a failure (say, no base model known) is logged, not retried.
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { type Checkpoint, folderKind, isTorchFile } from '../../engine/checkpoint/classify';
import { type CheckpointRef, formatCheckpointRef } from '../../engine/checkpoint/reference';
import type { AuditService } from '../audit-service';
import { CHECKPOINT_FILES_GLOB } from '../checkpoint-files-glob';
import { currentSettings } from '../current-settings';
import type { Log } from '../log';
import { makeTarget } from '../targets';
import type { CheckpointStatuses } from './checkpoint-statuses';
import type { ReferenceDiagnostics } from './reference-diagnostics';

const SETTLE_MS = 1500;

export class AutoAudit implements vscode.Disposable {
  private readonly started = new Set<string>();
  private readonly settling = new Map<string, ReturnType<typeof setTimeout>>();
  private queue: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly audits: AuditService,
    private readonly statuses: CheckpointStatuses,
    references: ReferenceDiagnostics,
    private readonly log: Log,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(CHECKPOINT_FILES_GLOB, false, false, true);
    const onFile = (uri: vscode.Uri) => {
      const checkpoint = uri.scheme === 'file' ? checkpointOf(uri.fsPath) : undefined;
      if (checkpoint) this.consider({ path: checkpoint.path }, checkpoint);
    };
    this.disposables.push(
      watcher,
      watcher.onDidCreate(onFile),
      watcher.onDidChange(onFile),
      references.onDidLocate((r) => {
        if (r.status.kind === 'not-audited') this.consider(r.resolved.ref, r.resolved.checkpoint);
      }),
    );
  }

  private consider(ref: CheckpointRef, checkpoint: Checkpoint): void {
    const key = formatCheckpointRef(ref);
    if (!vscode.workspace.isTrusted || this.started.has(key) || !currentSettings(this.log).autoAudit) return;
    clearTimeout(this.settling.get(key));
    this.settling.set(
      key,
      setTimeout(() => {
        this.settling.delete(key);
        this.queue = this.queue.then(() => this.auditIfUnaudited(key, ref, checkpoint));
      }, SETTLE_MS),
    );
  }

  private async auditIfUnaudited(key: string, ref: CheckpointRef, checkpoint: Checkpoint): Promise<void> {
    if (this.started.has(key) || !currentSettings(this.log).autoAudit) return;
    this.statuses.forget(ref);
    const status = await this.statuses.statusOf(ref, checkpoint);
    if (status.kind !== 'not-audited') return;
    this.started.add(key);
    this.log.info(`auditing ${key} automatically (ditAuditor.autoAudit)`);
    await this.audits.audit(makeTarget(ref), { background: true });
  }

  dispose(): void {
    for (const timer of this.settling.values()) clearTimeout(timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The checkpoint a changed file belongs to: a torch file itself, else the folder it makes a checkpoint. */
function checkpointOf(fsPath: string): Checkpoint | undefined {
  if (isTorchFile(fsPath)) return { kind: 'torch-file', path: fsPath };
  const dir = dirname(fsPath);
  const kind = folderKind(dir);
  return kind && { kind, path: dir };
}
