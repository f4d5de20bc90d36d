// The verdict, and the findings behind it (the report stores them most severe first).
import { html, nothing, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';
import { icon, SEVERITY_ICONS, VERDICT_ICONS } from './icons';

export function verdictSection(r: AuditReport): TemplateResult {
  const verdict = r.verdict;
  return html`<section class="verdict ${verdict.level}" data-testid="verdict">
    <div class="verdict-label">
      ${icon(VERDICT_ICONS[verdict.level], `level-${verdict.level}`)}
      <span data-testid="verdict-label">${verdict.label}</span>
    </div>
    <div data-testid="summary">${verdict.summary}</div>
    ${
      r.findings.length === 0
        ? nothing
        : html`<div data-testid="findings">
          ${r.findings.map(
            (f) => html`<div class="finding">
              ${icon(SEVERITY_ICONS[f.severity], `severity-${f.severity}`)}
              <span class="finding-title"><span class="severity-label">${f.severity}:</span> ${f.title}</span>
              <code class="muted">${f.rule}</code>
              <div class="finding-detail">${f.detail}</div>
            </div>`,
          )}
        </div>`
    }
  </section>`;
}
