// The review panel: the checkpoints a branch adds or changes, each old and new side by side. As in
// the report panel, all text from checkpoints and models goes through Lit text bindings.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import type { ReviewedCheckpoint, ReviewedVersion } from '../src/audit/review/run-review';
import type { ReviewState } from '../src/protocol/review';
import type { Post } from './host';
import { reportStyles } from './report-styles';

export class ReviewView extends LitElement {
  static override properties = { state: { attribute: false } };

  static override styles = [
    reportStyles,
    css`
      .versions {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 12px;
      }
      .version {
        border: 1px solid var(--vscode-panel-border, transparent);
        padding: 8px 12px;
      }
      .version h3 {
        margin-top: 0;
      }
    `,
  ];

  declare state: ReviewState | undefined;
  /** Set by main.ts: posts a message to the extension host. */
  post: Post = () => {};

  constructor() {
    super();
    this.state = undefined;
  }

  override render(): TemplateResult {
    const s = this.state;
    if (s === undefined) return html`<p class="muted" data-testid="waiting">Waiting for the review…</p>`;
    const heading = html`<h1 data-testid="review-title">${s.title}</h1>`;
    switch (s.kind) {
      case 'running':
        return html`${heading}
          <vscode-progress-bar aria-label="Review progress" .value=${Math.round(s.fraction * 100)} .max=${100}></vscode-progress-bar>
          <p data-testid="review-progress">${s.message}</p>`;
      case 'error':
        return html`${heading}
          <p class="problem" data-testid="review-error">The review failed: ${s.message}</p>
          <div class="actions"><vscode-button secondary @click=${() => this.post({ type: 'showLog' })}>Show log</vscode-button></div>`;
      case 'done': {
        const { checkpoints, mergeBase, head } = s.review;
        return html`${heading}
          <div class="subtitle" data-testid="review-summary">
            ${checkpoints.length} ${checkpoints.length === 1 ? 'checkpoint' : 'checkpoints'} changed · merge base
            ${mergeBase.slice(0, 12)} · head ${head.slice(0, 12)}
          </div>
          ${checkpoints.length === 0 ? html`<p class="muted">No checkpoint was added or changed.</p>` : nothing}
          ${checkpoints.map((c) => checkpointSection(c))}`;
      }
    }
  }
}

function checkpointSection(c: ReviewedCheckpoint): TemplateResult {
  const { newFindings, resolvedFindings } = c.changes;
  return html`<section data-testid="review-checkpoint">
    <h2><code>${c.path}</code> <span class="muted">${c.status}</span></h2>
    <div class="versions">
      ${versionColumn('Before', c.old, 'old')} ${versionColumn('After', c.new, 'new')}
    </div>
    ${
      newFindings.length + resolvedFindings.length === 0
        ? nothing
        : html`<ul data-testid="review-changes">
          ${newFindings.map((f) => html`<li>New: <span class="severity-${f.severity}">${f.severity}</span> ${f.title}</li>`)}
          ${resolvedFindings.map((f) => html`<li>Resolved: <span class="severity-${f.severity}">${f.severity}</span> ${f.title}</li>`)}
        </ul>`
    }
  </section>`;
}

function versionColumn(label: string, version: ReviewedVersion | null, which: 'old' | 'new'): TemplateResult {
  const body =
    version === null
      ? html`<p class="muted">${which === 'old' ? 'Not in the base branch.' : 'Deleted by the branch.'}</p>`
      : version.report === null
        ? html`<p class="problem">${version.problem ?? 'Not audited.'}</p>`
        : html`<div class="verdict ${version.report.verdict.level}">
              <div class="verdict-label" data-testid="review-verdict">${version.report.verdict.label}</div>
              <div>${version.report.verdict.summary}</div>
            </div>`;
  return html`<div class="version" data-testid="review-${which}"><h3>${label}</h3>${body}</div>`;
}

customElements.define('dit-review-view', ReviewView);

declare global {
  interface HTMLElementTagNameMap {
    'dit-review-view': ReviewView;
  }
}
