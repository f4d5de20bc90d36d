// Unsafe pickles flagged where they lie, with no model and nothing run: every `.pt`, `.pth`, `.bin`
// and `.ckpt` in the workspace is read by the engine's allowlist reader (in a worker thread) on
// start, on trust, and when a file is created or changed. One that names a global outside the
// allowlist gets an Error diagnostic and a red badge in the explorer.
import * as vscode from 'vscode';
import { unsafePickleFinding } from '../../audit/findings';
import { TORCH_EXTENSIONS } from '../../engine/checkpoint/classify';
import { describeError, type Log } from '../log';
import { readSettings, SECTION } from '../settings';
import type { PickleScanClient } from './scan-client';

const GLOB = `**/*.{${TORCH_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`;
const EXCLUDE = '**/{node_modules,.git,.venv,venv,__pycache__}/**';
const MAX_FILES = 20_000;

export class PickleScanner implements vscode.Disposable, vscode.FileDecorationProvider {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('dit-auditor-pickles');
  /** Unsafe files (URI strings) → the globals outside the allowlist. */
  private readonly unsafe = new Map<string, readonly string[]>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** One scan at a time, in order: a file changed twice is read twice, the second answer wins. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: PickleScanClient,
    private readonly log: Log,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(GLOB);
    this.disposables.push(
      this.diagnostics,
      this.changed,
      watcher,
      watcher.onDidCreate((uri) => this.enqueue(uri)),
      watcher.onDidChange((uri) => this.enqueue(uri)),
      watcher.onDidDelete((uri) => this.forget([uri])),
      vscode.window.registerFileDecorationProvider(this),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.scanWorkspace()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.scanPickles`)) void this.scanWorkspace();
      }),
    );
  }

  /** Scans every torch file of the workspace (or, turned off, clears what was flagged). */
  async scanWorkspace(): Promise<void> {
    if (!this.enabled()) {
      this.forget([...this.unsafe.keys()].map((u) => vscode.Uri.parse(u)));
      return;
    }
    const files = await vscode.workspace.findFiles(GLOB, EXCLUDE, MAX_FILES);
    if (files.length >= MAX_FILES) this.log.warn(`scanned only the first ${MAX_FILES} pickle files`);
    const started = Date.now();
    for (const uri of files) this.enqueue(uri);
    await this.queue;
    this.log.info(
      `scanned ${files.length} pickle files in ${Date.now() - started} ms: ${this.unsafe.size} unsafe`,
    );
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const globals = this.unsafe.get(uri.toString());
    if (globals === undefined) return undefined;
    return {
      badge: '!',
      color: new vscode.ThemeColor('list.errorForeground'),
      tooltip: `Unsafe pickle: loading it would run ${globals.join(', ')}`,
    };
  }

  private enabled(): boolean {
    const read = (key: string) => vscode.workspace.getConfiguration(SECTION).get(key);
    return vscode.workspace.isTrusted && readSettings(read).settings.scanPickles;
  }

  private enqueue(uri: vscode.Uri): void {
    if (uri.scheme !== 'file') return;
    this.queue = this.queue.then(() => this.scan(uri));
  }

  private async scan(uri: vscode.Uri): Promise<void> {
    if (!this.enabled()) return;
    let forbidden: readonly string[];
    try {
      forbidden = (await this.client.scan(uri.fsPath)).forbidden;
    } catch (e) {
      // Not a torch file (any `.bin`), or unreadable: nothing to flag.
      this.log.debug(`pickle scan of ${uri.fsPath}: ${describeError(e)}`);
      forbidden = [];
    }
    if (forbidden.length === 0) {
      this.forget([uri]);
      return;
    }
    const finding = unsafePickleFinding(uri.fsPath, forbidden);
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(0, 0, 0, 0),
      `${finding.title}: it names ${forbidden.join(', ')}, outside the allowlist. Nothing in it was run.`,
      vscode.DiagnosticSeverity.Error,
    );
    diagnostic.source = 'DIT Auditor';
    diagnostic.code = finding.rule;
    this.diagnostics.set(uri, [diagnostic]);
    this.unsafe.set(uri.toString(), forbidden);
    this.changed.fire([uri]);
  }

  private forget(uris: readonly vscode.Uri[]): void {
    const gone = uris.filter((u) => this.unsafe.delete(u.toString()));
    for (const uri of uris) this.diagnostics.delete(uri);
    if (gone.length > 0) this.changed.fire(gone);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.client.dispose();
  }
}
