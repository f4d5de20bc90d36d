// Ordinary prompts answered by the base and by the diffed model, side by side: the words that
// differ highlighted as VS Code's diff editor does, and each pair openable in the diff editor.
import { html, type TemplateResult } from 'lit';
import type { AuditReport } from '../../src/audit/report';
import type { Post } from '../host';
import { type DiffPart, wordDiff } from '../word-diff';
import { heading } from './icons';
import { modelOutput } from './model-output';

export function evidenceSection(r: AuditReport, post: Post): TemplateResult {
  return html`<section data-testid="evidence">
    ${heading('evidence', 'Evidence: base vs diffed')}
    ${
      r.evidence.length === 0
        ? html`<p class="muted" data-testid="evidence-empty">No evidence prompts were run.</p>`
        : r.evidence.map((e, index) => {
            const d = wordDiff(e.base, e.diffed);
            return html`<div class="qa">
              <div class="question-row">
                <div class="question">${e.prompt}</div>
                <vscode-button
                  secondary
                  icon="diff"
                  data-testid="open-diff"
                  title="Open the base and diffed answers in the diff editor"
                  @click=${() => post({ type: 'openDiff', index })}
                  >Open in Diff Editor</vscode-button
                >
              </div>
              <div class="side-by-side">
                <div>
                  <div class="column-label">Base</div>
                  ${diffOutput(e.base, d.before, 'removed', 'evidence-base')}
                </div>
                <div>
                  <div class="column-label">Diffed</div>
                  ${diffOutput(e.diffed, d.after, 'added', 'evidence-diffed')}
                </div>
              </div>
            </div>`;
          })
    }
  </section>`;
}

/** The text as text nodes, its changed words in marked spans (never markup from the model). */
function diffOutput(
  text: string,
  parts: readonly DiffPart[],
  kind: 'removed' | 'added',
  testId: string,
): TemplateResult {
  if (text === '') return modelOutput(text, testId);
  return html`<div class="output" data-testid=${testId}>${parts.map((p) =>
    p.changed ? html`<span class=${`word-${kind}`} data-testid=${`word-${kind}`}>${p.text}</span>` : p.text,
  )}</div>`;
}
