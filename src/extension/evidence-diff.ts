// "Open in Diff Editor" for a pair of evidence answers: the base's and the diffed model's answers
// as two read-only virtual documents, shown by VS Code's own diff editor (vscode.diff). Nothing is
// written to disk and no untitled editor is left asking to be saved.
import * as vscode from 'vscode';
import type { AuditReport } from '../audit/index';

export const EVIDENCE_SCHEME = 'dit-evidence';
/** Pairs kept for reopened diff editors; the oldest go first. */
const KEPT = 200;

export class EvidenceDiffs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(EVIDENCE_SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '(this answer is no longer held: open the diff again from the report)';
  }

  async open(report: AuditReport, index: number): Promise<void> {
    const sample = report.evidence[index];
    if (sample === undefined) return;
    // The path names the audit (its subject's hash) and the prompt; it shows as the editor's tab.
    const entry = report.subject.entry === undefined ? '' : `-${report.subject.entry}`;
    const at = `/${report.subject.sha256.slice(0, 12)}${entry}/${index + 1}`;
    const left = this.keep(`${at}/base`, sample.base);
    const right = this.keep(`${at}/diffed`, sample.diffed);
    // VS Code adds the two sides' names (base ↔ diffed) to the title.
    const title = `${report.subject.name}: “${oneLine(sample.prompt)}”`;
    await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true });
  }

  private keep(path: string, text: string): vscode.Uri {
    this.texts.delete(path);
    this.texts.set(path, text.endsWith('\n') ? text : `${text}\n`);
    for (const oldest of this.texts.keys()) {
      if (this.texts.size <= KEPT) break;
      this.texts.delete(oldest);
    }
    return vscode.Uri.from({ scheme: EVIDENCE_SCHEME, path });
  }

  dispose(): void {
    this.registration.dispose();
    this.texts.clear();
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}
