// The panel in its states other than a report: an audit running, failed, cancelled or refused.
import { html, nothing, type TemplateResult } from 'lit';
import { STAGE_LABELS } from '../../src/audit/progress';
import type { Post, StateOf } from '../host';

export function runningView(s: StateOf<'running'>, post: Post): TemplateResult {
  return html`
    <h1>Auditing ${s.target.label}</h1>
    <p class="subtitle">${s.target.path}${s.target.entry === undefined ? nothing : html` (entry ${s.target.entry})`}</p>
    <vscode-progress-bar
      aria-label="Audit progress"
      .value=${Math.round(s.fraction * 100)}
      .max=${100}
    ></vscode-progress-bar>
    <p data-testid="progress"><strong>${STAGE_LABELS[s.stage]}</strong>: ${s.message}</p>
    <div class="actions">
      <vscode-button secondary @click=${() => post({ type: 'cancel' })}>Cancel</vscode-button>
    </div>
  `;
}

export function stoppedView(
  label: string,
  heading: string,
  message: string | undefined,
  isError: boolean,
  post: Post,
): TemplateResult {
  // The paragraph's whitespace is kept as it was: .problem is white-space: pre-wrap.
  return html`
    <h1>Audit of ${label}</h1>
    <p class=${isError ? 'problem' : 'muted'} data-testid=${isError ? 'error' : 'cancelled'}>
        ${heading}${message === undefined ? '.' : html`: ${message}`}
      </p>
    <div class="actions">
      <vscode-button @click=${() => post({ type: 'rerun' })}>Run again</vscode-button>
      ${isError ? html`<vscode-button secondary @click=${() => post({ type: 'showLog' })}>Show log</vscode-button>` : nothing}
    </div>
  `;
}

export function untrustedView(s: StateOf<'untrusted'>, post: Post): TemplateResult {
  return html`
    <h1>Audit of ${s.target.label}</h1>
    <p class="problem" data-testid="untrusted">${s.message}</p>
    <div class="actions">
      <vscode-button @click=${() => post({ type: 'manageTrust' })}>Manage Workspace Trust</vscode-button>
    </div>
  `;
}
