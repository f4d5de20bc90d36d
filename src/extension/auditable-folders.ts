// Folder menus need to know which folders are checkpoints before the user right-clicks, and a
// `when` clause cannot look inside a folder. So the workspace is scanned for PEFT adapter folders
// and model folders, and their paths go into a context key the menus test with
// `resourcePath in ditAuditor.auditableFolders`. A watcher keeps the list current.
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { folderKind } from '../engine/checkpoint/classify';
import type { Log } from './log';

export const AUDITABLE_FOLDERS_KEY = 'ditAuditor.auditableFolders';
const MARKERS = '**/{adapter_config.json,config.json}';
const EXCLUDE = '**/{node_modules,.git,.venv,venv,__pycache__}/**';
const MAX_MARKERS = 20_000;
const RESCAN_DELAY_MS = 400;

export class AuditableFolders implements vscode.Disposable {
  private folders = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after a scan that changed the list. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: Log) {
    const watcher = vscode.workspace.createFileSystemWatcher(
      '**/{adapter_config.json,config.json,*.safetensors,*.safetensors.index.json}',
    );
    this.disposables.push(
      this.changed,
      watcher,
      watcher.onDidCreate((uri) => this.noticed(uri)),
      watcher.onDidChange((uri) => this.noticed(uri)),
      watcher.onDidDelete((uri) => this.noticed(uri)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.schedule()),
    );
  }

  /** Scans now; resolves when the context key is set. */
  refresh(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scan());
    return this.scanning;
  }

  list(): string[] {
    return [...this.folders].sort();
  }

  has(dir: string): boolean {
    return this.folders.has(dir);
  }

  /** The file lies directly in a checkpoint folder (its weights, its config). */
  containsFile(fsPath: string): boolean {
    return this.folders.has(dirname(fsPath));
  }

  /**
   * A marker file appeared, changed or went: its folder is looked at now, and the workspace again
   * soon. The rescan alone was not enough: in the e2e test a folder copied in was audited (its
   * files' events seen) and never badged, in 2 runs of 3, its folder missing from the list.
   */
  private noticed(uri: vscode.Uri): void {
    if (uri.scheme === 'file') {
      const dir = dirname(uri.fsPath);
      this.scanning = this.scanning.then(async () => {
        try {
          const checkpoint = folderKind(dir) !== undefined;
          if (checkpoint === this.folders.has(dir)) return;
          const next = new Set(this.folders);
          if (checkpoint) next.add(dir);
          else next.delete(dir);
          await this.publish(next);
        } catch (e) {
          // As scan() does: a failure here must not leave `scanning` rejected for every later scan.
          this.log.error(`looking at ${dir} for a checkpoint failed: ${String(e)}`);
        }
      });
    }
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), RESCAN_DELAY_MS);
  }

  private async scan(): Promise<void> {
    try {
      const markers = await vscode.workspace.findFiles(MARKERS, EXCLUDE, MAX_MARKERS);
      const candidates = [
        ...new Set(markers.filter((u) => u.scheme === 'file').map((u) => dirname(u.fsPath))),
      ];
      // The folders already known stay while they still are checkpoints: the search finds new
      // ones, and a folder that is no longer one (deleted, its config gone) fails folderKind.
      const found = new Set(
        [...candidates, ...[...this.folders].filter((dir) => inWorkspace(dir))].filter(
          (dir) => folderKind(dir) !== undefined,
        ),
      );
      if (markers.length >= MAX_MARKERS)
        this.log.warn(`stopped looking for checkpoint folders after ${MAX_MARKERS} config files`);
      await this.publish(found);
      this.log.debug(`checkpoint folders in the workspace: ${found.size}`);
    } catch (e) {
      this.log.error(`scanning the workspace for checkpoint folders failed: ${String(e)}`);
    }
  }

  /** Makes `found` the list: the context key set, listeners told if it changed. */
  private async publish(found: Set<string>): Promise<void> {
    const same = found.size === this.folders.size && [...found].every((d) => this.folders.has(d));
    this.folders = found;
    if (!same) this.changed.fire();
    // `resourcePath` is the fsPath of a file URI, and the path of a remote one as the UI sees it.
    const keys = new Set<string>();
    for (const dir of found) keys.add(dir).add(vscode.Uri.file(dir).path);
    await vscode.commands.executeCommand('setContext', AUDITABLE_FOLDERS_KEY, [...keys].sort());
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function inWorkspace(dir: string): boolean {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir)) !== undefined;
}
