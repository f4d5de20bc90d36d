// Where and how long the audit ran, and which version wrote the report.
import { html, nothing, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';
import { CUDA_PROVIDER_MISSING } from '../../src/engine/runtime/providers';
import { formatMs } from '../format';
import type { Post } from '../host';
import { heading } from './icons';

export function executionSection(r: AuditReport, post: Post): TemplateResult {
  return html`<section data-testid="execution">
    ${heading('execution', 'Execution')}
    <table>
      <tr>
        <th>Execution provider</th>
        <td data-testid="provider">
          ${r.executionProvider === null ? 'none (nothing was run)' : r.executionProvider.name.toUpperCase()}
          ${
            r.executionProvider !== null && r.executionProvider.reasons.length > 0
              ? html`<ul class="muted">
                ${r.executionProvider.reasons.map((reason) => html`<li>${reason}${cudaAdvice(reason, post)}</li>`)}
              </ul>`
              : nothing
          }
        </td>
      </tr>
      <tr><th>Total</th><td data-testid="timing-total">${formatMs(r.timings.totalMs)}</td></tr>
      <tr><th>Loading</th><td>${formatMs(r.timings.loadMs)}</td></tr>
      <tr><th>Interpreting</th><td>${formatMs(r.timings.interpretMs)}</td></tr>
      <tr><th>Evidence</th><td>${formatMs(r.timings.evidenceMs)}</td></tr>
      <tr><th>dit-auditor</th><td>${r.engineVersion} (report schema ${r.schemaVersion})</td></tr>
    </table>
  </section>`;
}

/** What the extension offers where the CUDA provider is missing (a VSIX user has no npm to run). */
function cudaAdvice(reason: string, post: Post): TemplateResult | typeof nothing {
  if (!reason.startsWith(CUDA_PROVIDER_MISSING)) return nothing;
  return html`<div class="actions">
    <vscode-button secondary data-testid="install-cuda" @click=${() => post({ type: 'installCudaProvider' })}
      >Install CUDA Provider Libraries…</vscode-button
    >
  </div>`;
}
