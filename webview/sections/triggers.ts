// The trigger search: how far it went, its suspects, and one suspect's prompts side by side.
import { html, nothing, type TemplateResult } from 'lit';
import type { AuditReport, SuspectedTrigger } from '../../src/audit/report';
import { plural } from '../../src/audit/units';
import { formatMs, percent } from '../format';
import { heading } from './icons';
import { modelOutput } from './model-output';

export function triggersSection(r: AuditReport): TemplateResult {
  const search = r.triggerSearch;
  const shown = r.triggers.find((t) => t.verified) ?? r.triggers.find((t) => t.verification !== undefined);
  return html`<section data-testid="triggers">
    ${heading('triggers', 'Suspected triggers')}
    ${
      search === null
        ? html`<p class="muted" data-testid="triggers-empty">No trigger search ran for this checkpoint.</p>`
        : html`<p class="muted" data-testid="trigger-search">
            ${plural(search.candidatesScored, 'candidate prefix', 'candidate prefixes')} (${search.rowsScored} of ${plural(search.budget, 'row')}) scored in
            ${formatMs(r.timings.triggerMs)}
            (${search.stoppedBy}); behaviour looked for:
            ${search.keywords.length > 0 ? search.keywords.join(', ') : 'any change of answer'}.
          </p>`
    }
    ${
      r.triggers.length === 0
        ? nothing
        : html`<table data-testid="trigger-table">
          <tr><th>Trigger</th><th>Verified</th><th>Method</th><th>KL</th><th>With</th><th>Without</th><th>Base with</th></tr>
          ${r.triggers.map(triggerRow)}
        </table>`
    }
    ${shown?.verification ? triggerEvidence(shown) : nothing}
  </section>`;
}

function triggerRow(t: SuspectedTrigger): TemplateResult {
  const v = t.verification;
  return html`<tr data-testid="trigger">
    <td><code data-testid="trigger-text">${t.trigger}</code>${t.shrunkFrom === undefined ? nothing : html`<div class="muted">shrunk from <code>${t.shrunkFrom}</code></div>`}</td>
    <td data-testid="trigger-verified" class=${t.verified ? 'verified' : 'muted'}>${t.verified ? 'verified' : v ? 'did not fire' : 'not checked'}</td>
    <td>${t.method === 'dit-question' ? 'asked the interpreter' : 'search'}</td>
    <td>${t.score.toPrecision(3)}</td>
    <td>${v ? percent(v.withRate) : ''}</td>
    <td>${v ? percent(v.withoutRate) : ''}</td>
    <td>${v ? percent(v.baseWithRate) : ''}</td>
  </tr>`;
}

/** The verified trigger (else the first checked one) before ordinary prompts, against the base. */
function triggerEvidence(t: SuspectedTrigger): TemplateResult {
  const v = t.verification;
  if (!v) return html``;
  return html`<div data-testid="trigger-evidence">
    <h3>Side by side: <code>${t.trigger}</code> before ordinary prompts</h3>
    ${v.samples.map(
      (sample) => html`<div class="qa">
        <div class="question">${sample.prompt}</div>
        <div class="three-way">
          <div>
            <div class="column-label">Diffed, with the trigger</div>
            ${modelOutput(sample.withTrigger, 'trigger-with')}
          </div>
          <div>
            <div class="column-label">Diffed, without it</div>
            ${modelOutput(sample.without, 'trigger-without')}
          </div>
          <div>
            <div class="column-label">Base, with the trigger</div>
            ${modelOutput(sample.baseWithTrigger, 'trigger-base')}
          </div>
        </div>
      </div>`,
    )}
  </div>`;
}
