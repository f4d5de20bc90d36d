// The files the audit read: the diff, its base and each interpreter, with hashes and a Reveal button.
import { html, nothing, type TemplateResult } from 'lit';
import type { AuditReport, CheckpointIdentity, InterpreterIdentity } from '../../src/audit/report';
import { formatBytes, kindLabel, shortHash } from '../format';
import type { Post } from '../host';
import { heading } from './icons';

export function modelsSection(r: AuditReport, post: Post): TemplateResult {
  return html`<section>
    ${heading('models', 'Models')}
    ${identity('Diff', r.subject, () => post({ type: 'reveal', which: 'subject' }))}
    ${
      r.base === null
        ? html`<p class="muted">No base model was loaded.</p>`
        : identity('Base model', r.base, () => post({ type: 'reveal', which: 'base' }))
    }
    ${r.interpreters.map((it, i) =>
      identity(`Interpreter ${r.interpreters.length > 1 ? i + 1 : ''}`.trim(), it, () =>
        post({ type: 'reveal', which: 'interpreter', index: i }),
      ),
    )}
  </section>`;
}

function identity(
  role: string,
  id: CheckpointIdentity | InterpreterIdentity,
  reveal: () => void,
): TemplateResult {
  const metadata = Object.entries(id.metadata);
  return html`<div class="identity" data-testid="identity">
    <div class="identity-head">
      <h3>${role}: ${id.name}</h3>
      <vscode-badge>${kindLabel(id.kind)}</vscode-badge>
      <vscode-button secondary @click=${reveal}>Reveal</vscode-button>
    </div>
    <table>
      <tr><th>Path</th><td><code>${id.path}${id.entry === undefined ? '' : `#${id.entry}`}</code></td></tr>
      ${'question' in id ? html`<tr><th>Question</th><td>${id.question} (${id.questionKind})</td></tr>` : nothing}
      <tr><th>SHA-256</th><td><code title=${id.sha256}>${shortHash(id.sha256)}…</code></td></tr>
      <tr><th>Size</th><td>${formatBytes(id.bytes)}</td></tr>
      ${metadata.map(([k, v]) => html`<tr><th>${k}</th><td>${String(v)}</td></tr>`)}
    </table>
  </div>`;
}
