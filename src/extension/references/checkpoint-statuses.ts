// What is known about each checkpoint the editor shows or names, asked once and remembered until
// an audit ends, the cache is cleared or a checkpoint's files change; listeners then ask again.
import * as vscode from 'vscode';
import type { ReportCache } from '../../audit/index';
import { type CheckpointStatus, checkpointStatus } from '../../audit/references/checkpoint-status';
import type { Checkpoint } from '../../engine/checkpoint/classify';
import { type CheckpointRef, formatCheckpointRef } from '../../engine/checkpoint/reference';
import { CHECKPOINT_FILES_GLOB } from '../checkpoint-files-glob';

const SETTLE_MS = 300;

export class CheckpointStatuses implements vscode.Disposable {
  private readonly known = new Map<string, Promise<CheckpointStatus>>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when what was known may be stale: ask again. */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly cache: ReportCache) {
    const watcher = vscode.workspace.createFileSystemWatcher(CHECKPOINT_FILES_GLOB);
    const stale = () => this.invalidateSoon();
    this.disposables.push(
      this.changed,
      watcher,
      watcher.onDidChange(stale),
      watcher.onDidCreate(stale),
      watcher.onDidDelete(stale),
    );
  }

  statusOf(ref: CheckpointRef, checkpoint: Checkpoint): Promise<CheckpointStatus> {
    const key = formatCheckpointRef(ref);
    let status = this.known.get(key);
    if (!status) {
      status = checkpointStatus(ref, checkpoint, this.cache);
      this.known.set(key, status);
    }
    return status;
  }

  /** What was known about `ref` only: it is asked afresh next time, nobody is told. */
  forget(ref: CheckpointRef): void {
    this.known.delete(formatCheckpointRef(ref));
  }

  /** Now: an audit ended or the cache was cleared. */
  invalidate(): void {
    clearTimeout(this.timer);
    this.known.clear();
    this.changed.fire();
  }

  /** After files settle: a checkpoint being written changes many times. */
  private invalidateSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.invalidate(), SETTLE_MS);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
