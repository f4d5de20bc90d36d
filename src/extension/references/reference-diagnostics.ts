// Diagnostics where an open script, config or model card names a checkpoint: what its cached
// report found (references/inline-warning.ts says which severity), re-read as the text changes,
// when an audit ends and when checkpoint files change. Only what resolves to a checkpoint on this
// machine (a path, or a repo id in the Hugging Face cache) is a reference.
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { defaultHfCacheDirs } from '../../audit/hf-cache';
import type { CheckpointStatus } from '../../audit/references/checkpoint-status';
import { detectReferences, REFERENCE_LANGUAGES, referenceLanguageOf } from '../../audit/references/detect';
import { type InlineSeverity, inlineWarningOf } from '../../audit/references/inline-warning';
import { type ResolvedReference, resolveReference } from '../../audit/references/resolve';
import { currentSettings } from '../current-settings';
import { describeError, type Log } from '../log';
import { SECTION } from '../settings';
import type { CheckpointStatuses } from './checkpoint-statuses';

export interface LocatedReference {
  readonly range: vscode.Range;
  readonly text: string;
  readonly resolved: ResolvedReference;
  readonly status: CheckpointStatus;
}

/** The documents hovers and quick fixes serve: files of the languages references are read in. */
export const REFERENCE_SELECTOR: vscode.DocumentFilter[] = REFERENCE_LANGUAGES.map((language) => ({
  language,
  scheme: 'file',
}));

/** References looked at per document: a generated file naming thousands is not worth more. */
const MAX_REFERENCES = 200;
const TYPING_PAUSE_MS = 400;
const SEVERITY: Record<InlineSeverity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

export class ReferenceDiagnostics implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('dit-auditor-references');
  private readonly located = new Map<string, LocatedReference[]>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** A newer read of a document makes an older one's answer void. */
  private readonly generation = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly found = new vscode.EventEmitter<LocatedReference>();
  /** Each reference as it is read (the auto-audit listens). */
  readonly onDidLocate = this.found.event;

  constructor(
    private readonly statuses: CheckpointStatuses,
    private readonly log: Log,
  ) {
    this.disposables.push(
      this.diagnostics,
      this.found,
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, TYPING_PAUSE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.refreshAll()),
      statuses.onDidChange(() => this.refreshAll()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SECTION)) this.refreshAll();
      }),
    );
  }

  refreshAll(): void {
    for (const document of vscode.workspace.textDocuments) this.schedule(document, 0);
  }

  /** The reference under `position`, as last read. */
  referenceAt(document: vscode.TextDocument, position: vscode.Position): LocatedReference | undefined {
    return this.located.get(document.uri.toString())?.find((r) => r.range.contains(position));
  }

  referencesIn(document: vscode.TextDocument, range: vscode.Range): LocatedReference[] {
    return (this.located.get(document.uri.toString()) ?? []).filter((r) => r.range.intersection(range));
  }

  private schedule(document: vscode.TextDocument, delayMs: number): void {
    if (document.uri.scheme !== 'file' || referenceLanguageOf(document.fileName) === undefined) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.read(document);
      }, delayMs),
    );
  }

  private async read(document: vscode.TextDocument): Promise<void> {
    const key = document.uri.toString();
    const generation = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, generation);
    const settings = currentSettings(this.log);
    const language = referenceLanguageOf(document.fileName);
    if (!vscode.workspace.isTrusted || document.isClosed || language === undefined) {
      this.forget(document.uri);
      return;
    }
    try {
      const context = {
        fileDir: dirname(document.uri.fsPath),
        roots: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
        hfCacheDirs:
          settings.huggingFaceCacheFolders.length > 0
            ? settings.huggingFaceCacheFolders
            : defaultHfCacheDirs(),
      };
      const located: LocatedReference[] = [];
      for (const reference of detectReferences(document.getText(), language).slice(0, MAX_REFERENCES)) {
        const resolved = resolveReference(reference.text, context);
        if (!resolved) continue;
        const status = await this.statuses.statusOf(resolved.ref, resolved.checkpoint);
        const range = new vscode.Range(
          document.positionAt(reference.start),
          document.positionAt(reference.end),
        );
        located.push({ range, text: reference.text, resolved, status });
      }
      if (this.generation.get(key) !== generation || document.isClosed) return;
      this.located.set(key, located);
      this.diagnostics.set(document.uri, settings.referenceDiagnostics ? located.flatMap(diagnosticOf) : []);
      for (const reference of located) this.found.fire(reference);
    } catch (e) {
      this.log.warn(`reading the checkpoints ${document.fileName} names failed: ${describeError(e)}`);
    }
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.located.delete(key);
    this.generation.delete(key);
    this.diagnostics.delete(uri);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function diagnosticOf(reference: LocatedReference): vscode.Diagnostic[] {
  const warning = inlineWarningOf(reference.status, reference.text);
  if (!warning) return [];
  const diagnostic = new vscode.Diagnostic(reference.range, warning.message, SEVERITY[warning.severity]);
  diagnostic.source = 'DIT Auditor';
  diagnostic.code = warning.code;
  return [diagnostic];
}
