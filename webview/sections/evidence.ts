// Ordinary prompts answered by the base and by the diffed model, side by side.
import { html, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';
import { modelOutput } from './model-output';

export function evidenceSection(r: AuditReport): TemplateResult {
  return html`<section data-testid="evidence">
    <h2>Evidence: base vs diffed</h2>
    ${
      r.evidence.length === 0
        ? html`<p class="muted" data-testid="evidence-empty">No evidence prompts were run.</p>`
        : r.evidence.map(
            (e) => html`<div class="qa">
            <div class="question">${e.prompt}</div>
            <div class="side-by-side">
              <div>
                <div class="column-label">Base</div>
                ${modelOutput(e.base, 'evidence-base')}
              </div>
              <div>
                <div class="column-label">Diffed</div>
                ${modelOutput(e.diffed, 'evidence-diffed')}
              </div>
            </div>
          </div>`,
          )
    }
  </section>`;
}
