// The hover on a checkpoint a file names: the cached report's verdict, summary and findings, and
// links that open the report or audit. Model output is untrusted: appended as text, never as
// Markdown, and only this extension's own commands are enabled in the hover.
import * as vscode from 'vscode';
import {
  AUDIT_CHECKPOINT_COMMAND,
  commandArgument,
  OPEN_REPORT_COMMAND,
  REAUDIT_CHECKPOINT_COMMAND,
} from '../commands/checkpoint-actions';
import { currentSettings } from '../current-settings';
import type { Log } from '../log';
import {
  type LocatedReference,
  REFERENCE_SELECTOR,
  type ReferenceDiagnostics,
} from './reference-diagnostics';

const MAX_FINDINGS_SHOWN = 5;

export function registerReferenceHover(references: ReferenceDiagnostics, log: Log): vscode.Disposable {
  return vscode.languages.registerHoverProvider(REFERENCE_SELECTOR, {
    provideHover(document, position) {
      if (!currentSettings(log).referenceHovers) return undefined;
      const reference = references.referenceAt(document, position);
      return reference && new vscode.Hover(hoverOf(reference), reference.range);
    },
  });
}

export function hoverOf(reference: LocatedReference): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', true);
  md.isTrusted = {
    enabledCommands: [OPEN_REPORT_COMMAND, AUDIT_CHECKPOINT_COMMAND, REAUDIT_CHECKPOINT_COMMAND],
  };
  const arg = encodeURIComponent(JSON.stringify(commandArgument(reference.resolved.ref)));
  const link = (title: string, command: string) => `[${title}](command:${command}?${arg})`;
  md.appendMarkdown('**DIT Auditor** · ');
  md.appendText(reference.resolved.ref.path);
  if (reference.resolved.from === 'hf-cache') md.appendText(' (Hugging Face cache)');
  md.appendMarkdown('\n\n');
  const { status } = reference;
  switch (status.kind) {
    case 'unsafe':
      md.appendMarkdown('$(error) **Unsafe pickle**: loading it would run ');
      md.appendText(`${status.globals.join(', ')}. Nothing in it was run.`);
      break;
    case 'unreadable':
      md.appendText(`Not readable as a checkpoint: ${status.message}`);
      break;
    case 'interpreter':
      md.appendText('A DIT-adapter (an interpreter): it reads weight diffs and is not audited itself.');
      break;
    case 'not-audited':
      md.appendMarkdown(
        `$(circle-outline) Not audited yet. ${link('Audit this checkpoint', AUDIT_CHECKPOINT_COMMAND)}`,
      );
      break;
    case 'audited': {
      const { report } = status;
      md.appendMarkdown(`${verdictIcon(report.verdict.level)} **`);
      md.appendText(report.verdict.label);
      md.appendMarkdown('**\n\n');
      md.appendText(report.verdict.summary);
      md.appendMarkdown('\n\n');
      const shown = report.findings.filter((f) => f.severity !== 'info').slice(0, MAX_FINDINGS_SHOWN);
      for (const finding of shown) {
        md.appendMarkdown(`- ${finding.severity === 'error' ? '$(error)' : '$(warning)'} `);
        md.appendText(finding.title);
        md.appendMarkdown('\n');
      }
      md.appendMarkdown(`\nAudited ${report.createdAt.slice(0, 10)} · `);
      md.appendMarkdown(
        `${link('Open report', OPEN_REPORT_COMMAND)} · ${link('Re-audit', REAUDIT_CHECKPOINT_COMMAND)}`,
      );
      break;
    }
  }
  return md;
}

function verdictIcon(level: string): string {
  if (level === 'error') return '$(error)';
  if (level === 'warning') return '$(warning)';
  if (level === 'clean') return '$(pass)';
  return '$(info)';
}
