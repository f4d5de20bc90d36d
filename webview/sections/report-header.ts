// The top of a report: what was audited, when, and the actions on the report.
import { html, nothing, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';
import { kindLabel } from '../format';
import type { Post } from '../host';

export function reportHeader(
  r: AuditReport,
  fromCache: boolean,
  notice: string | undefined,
  post: Post,
): TemplateResult {
  return html`
    <h1 data-testid="title">Audit of ${r.subject.name}${r.subject.entry === undefined ? nothing : ` #${r.subject.entry}`}</h1>
    <div class="subtitle">
      ${kindLabel(r.subject.kind)} · audited ${new Date(r.createdAt).toLocaleString()}
      ${fromCache ? html` · <vscode-badge data-testid="from-cache">cached report</vscode-badge>` : nothing}
    </div>
    <div class="actions">
      <vscode-button @click=${() => post({ type: 'rerun' })}>Re-run</vscode-button>
      <vscode-button secondary @click=${() => post({ type: 'copyMarkdown' })}>Copy as Markdown</vscode-button>
      <vscode-button secondary @click=${() => post({ type: 'exportJson' })}>Export JSON…</vscode-button>
      <vscode-button secondary @click=${() => post({ type: 'reveal', which: 'subject' })}>Reveal Checkpoint</vscode-button>
      <span class="notice" role="status" aria-live="polite" data-testid="notice">${notice ?? ''}</span>
    </div>
  `;
}
