// Quick fixes on a checkpoint a file names: audit it when it has no report, open the report and
// audit it again when it has one.
import * as vscode from 'vscode';
import {
  AUDIT_CHECKPOINT_COMMAND,
  commandArgument,
  OPEN_REPORT_COMMAND,
  REAUDIT_CHECKPOINT_COMMAND,
} from '../commands/checkpoint-actions';
import {
  type LocatedReference,
  REFERENCE_SELECTOR,
  type ReferenceDiagnostics,
} from './reference-diagnostics';

export function registerReferenceActions(references: ReferenceDiagnostics): vscode.Disposable {
  return vscode.languages.registerCodeActionsProvider(
    REFERENCE_SELECTOR,
    {
      provideCodeActions(document, range, context) {
        return references.referencesIn(document, range).flatMap((r) => actionsFor(r, context.diagnostics));
      },
    },
    { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
  );
}

export function actionsFor(
  reference: LocatedReference,
  diagnostics: readonly vscode.Diagnostic[],
): vscode.CodeAction[] {
  const name = reference.text;
  const arg = commandArgument(reference.resolved.ref);
  const action = (title: string, command: string, preferred = false) => {
    const a = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
    a.command = { title, command, arguments: [arg] };
    a.diagnostics = diagnostics.filter(
      (d) => d.range.intersection(reference.range) && d.source === 'DIT Auditor',
    );
    a.isPreferred = preferred;
    return a;
  };
  switch (reference.status.kind) {
    case 'not-audited':
      return [action(`Audit this checkpoint (${name})`, AUDIT_CHECKPOINT_COMMAND, true)];
    case 'audited':
      return [
        action(`Open the audit report of ${name}`, OPEN_REPORT_COMMAND, true),
        action(`Re-audit ${name}`, REAUDIT_CHECKPOINT_COMMAND),
      ];
    default:
      return [];
  }
}
