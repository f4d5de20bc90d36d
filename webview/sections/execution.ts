// Where and how long the audit ran, and which version wrote the report.
import { html, nothing, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';
import { formatMs } from '../format';

export function executionSection(r: AuditReport): TemplateResult {
  return html`<section data-testid="execution">
    <h2>Execution</h2>
    <table>
      <tr>
        <th>Execution provider</th>
        <td data-testid="provider">
          ${r.executionProvider === null ? 'none (nothing was run)' : r.executionProvider.name.toUpperCase()}
          ${
            r.executionProvider !== null && r.executionProvider.reasons.length > 0
              ? html`<ul class="muted">
                ${r.executionProvider.reasons.map((reason) => html`<li>${reason}</li>`)}
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
