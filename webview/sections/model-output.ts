// A block of model output (an answer, an evidence or trigger sample), shown verbatim as text.
import { html, type TemplateResult } from 'lit';

export function modelOutput(text: string, testId: string): TemplateResult {
  return text === ''
    ? html`<div class="output empty-output" data-testid=${testId}>(empty)</div>`
    : html`<div class="output" data-testid=${testId}>${text}</div>`;
}
