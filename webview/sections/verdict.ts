// The verdict, and the findings behind it (the report stores them most severe first).
import { html, nothing, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';

export function verdictSection(r: AuditReport): TemplateResult {
  const verdict = r.verdict;
  return html`<section class="verdict ${verdict.level}" data-testid="verdict">
    <div class="verdict-label" data-testid="verdict-label">${verdict.label}</div>
    <div data-testid="summary">${verdict.summary}</div>
    ${
      r.findings.length === 0
        ? nothing
        : html`<div data-testid="findings">
          ${r.findings.map(
            (f) => html`<div class="finding">
              <span class="finding-title severity-${f.severity}">${f.severity}: ${f.title}</span>
              <code class="muted">${f.rule}</code>
              <div>${f.detail}</div>
            </div>`,
          )}
        </div>`
    }
  </section>`;
}
