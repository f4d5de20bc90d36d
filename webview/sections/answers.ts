// What the interpreters (or the diffed model itself) answered to each question.
import { html, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';
import { finishLabel } from '../format';
import { heading } from './icons';
import { modelOutput } from './model-output';

export function answersSection(r: AuditReport): TemplateResult {
  return html`<section data-testid="answers">
    ${heading('answers', 'Described behaviours')}
    ${
      r.answers.length === 0
        ? html`<p class="muted" data-testid="answers-empty">No question was answered.</p>`
        : r.answers.map((a) => {
            const who =
              a.interpreter === null
                ? 'asked the diffed model directly'
                : `via ${r.interpreters[a.interpreter]?.name ?? `interpreter ${a.interpreter}`}`;
            return html`<div class="qa" data-testid="qa">
            <div class="question" data-testid="question">${a.question}</div>
            ${modelOutput(a.answer, 'answer')}
            <div class="muted">${who} · ${a.questionKind} · ${finishLabel(a.finishReason, a.tokens)}</div>
          </div>`;
          })
    }
  </section>`;
}
