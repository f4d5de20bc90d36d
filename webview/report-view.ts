// The report panel: one Lit element that renders the state the extension host sends. Every piece of
// model output (answers, evidence, finding details, names from files) goes through Lit text
// bindings, which create text nodes: a model that says `<img src=x onerror=…>` shows those
// characters. Nothing here uses unsafeHTML, innerHTML or attribute-built markup.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import { sortFindings } from '../src/audit/findings';
import type {
  AuditReport,
  CheckpointIdentity,
  InterpreterIdentity,
  SuspectedTrigger,
} from '../src/audit/report';
import type { PanelState, RevealWhich, WebviewMessage } from '../src/protocol/panel';
import { finishLabel, formatBytes, formatMs, heatMap, kindLabel, percent, shortHash } from './format';

const STAGE_LABELS: Record<string, string> = {
  hash: 'Hashing files',
  resolve: 'Resolving the base model and interpreters',
  load: 'Loading models',
  interpret: 'Asking the interpreters',
  evidence: 'Generating evidence',
  triggers: 'Searching for triggers',
  done: 'Done',
};

export class ReportView extends LitElement {
  static override properties = {
    state: { attribute: false },
    notice: { attribute: false },
  };

  declare state: PanelState | undefined;
  declare notice: string | undefined;
  /** Set by main.ts: posts a message to the extension host. */
  post: (message: WebviewMessage) => void = () => {};

  constructor() {
    super();
    this.state = undefined;
    this.notice = undefined;
  }

  static override styles = css`
    :host {
      display: block;
      max-width: 1100px;
      padding: 8px 20px 32px;
      color: var(--vscode-foreground);
      font-family: var(--vscode-font-family);
      font-size: var(--vscode-font-size);
      line-height: 1.45;
    }
    h1 {
      font-size: 1.5em;
      font-weight: 600;
      margin: 12px 0 4px;
      overflow-wrap: anywhere;
    }
    h2 {
      font-size: 1.15em;
      font-weight: 600;
      margin: 0 0 8px;
    }
    h3 {
      font-size: 1em;
      font-weight: 600;
      margin: 12px 0 4px;
    }
    .subtitle,
    .muted {
      color: var(--vscode-descriptionForeground);
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
      margin: 12px 0;
    }
    .verdict {
      border-left: 4px solid var(--vscode-charts-green, var(--vscode-focusBorder));
      background: var(--vscode-textBlockQuote-background);
      padding: 10px 14px;
      margin: 12px 0;
    }
    .verdict.warning {
      border-left-color: var(--vscode-editorWarning-foreground);
    }
    .verdict.described,
    .verdict.overt {
      border-left-color: var(--vscode-editorInfo-foreground);
    }
    .verdict.error {
      border-left-color: var(--vscode-editorError-foreground);
    }
    .verdict-label {
      font-weight: 600;
      font-size: 1.1em;
    }
    section {
      margin: 20px 0;
    }
    .output {
      font-family: var(--vscode-editor-font-family);
      font-size: var(--vscode-editor-font-size);
      white-space: pre-wrap;
      overflow-wrap: anywhere;
      background: var(--vscode-textCodeBlock-background);
      border-radius: 4px;
      padding: 6px 8px;
      margin: 4px 0;
    }
    .empty-output {
      font-style: italic;
      color: var(--vscode-descriptionForeground);
    }
    .qa {
      border-bottom: 1px solid var(--vscode-panel-border, transparent);
      padding: 8px 0;
    }
    .question {
      font-weight: 600;
    }
    .side-by-side {
      display: grid;
      grid-template-columns: 1fr 1fr;
      gap: 12px;
    }
    @media (max-width: 640px) {
      .side-by-side {
        grid-template-columns: 1fr;
      }
    }
    .column-label {
      color: var(--vscode-descriptionForeground);
      font-size: 0.9em;
      text-transform: uppercase;
      letter-spacing: 0.04em;
    }
    table {
      border-collapse: collapse;
      width: 100%;
    }
    th,
    td {
      text-align: left;
      vertical-align: top;
      padding: 4px 12px 4px 0;
      border-bottom: 1px solid var(--vscode-panel-border, transparent);
      overflow-wrap: anywhere;
    }
    th {
      font-weight: 600;
      white-space: nowrap;
      width: 1%;
    }
    .identity {
      margin-bottom: 16px;
    }
    .identity-head {
      display: flex;
      align-items: center;
      gap: 8px;
      flex-wrap: wrap;
    }
    code {
      font-family: var(--vscode-editor-font-family);
    }
    .finding {
      margin: 6px 0;
    }
    .finding-title {
      font-weight: 600;
    }
    .severity-error {
      color: var(--vscode-editorError-foreground);
    }
    .severity-warning {
      color: var(--vscode-editorWarning-foreground);
    }
    .severity-info {
      color: var(--vscode-editorInfo-foreground);
    }
    .notice {
      color: var(--vscode-descriptionForeground);
      align-self: center;
    }
    .problem {
      color: var(--vscode-errorForeground);
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
    vscode-progress-bar {
      margin: 12px 0;
    }
    ul {
      margin: 4px 0;
      padding-left: 20px;
    }
    .three-way {
      display: grid;
      grid-template-columns: 1fr 1fr 1fr;
      gap: 12px;
    }
    @media (max-width: 800px) {
      .three-way {
        grid-template-columns: 1fr;
      }
    }
    .heatmap td,
    .heatmap th {
      text-align: center;
      width: auto;
      padding: 3px 6px;
      font-variant-numeric: tabular-nums;
    }
    .heatmap td.cell {
      min-width: 56px;
      border: 1px solid var(--vscode-panel-border, transparent);
    }
    .heat-1 {
      background: color-mix(in srgb, var(--vscode-charts-orange) 11%, transparent);
    }
    .heat-2 {
      background: color-mix(in srgb, var(--vscode-charts-orange) 21%, transparent);
    }
    .heat-3 {
      background: color-mix(in srgb, var(--vscode-charts-orange) 32%, transparent);
    }
    .heat-4 {
      background: color-mix(in srgb, var(--vscode-charts-orange) 42%, transparent);
    }
    .heat-5 {
      background: color-mix(in srgb, var(--vscode-charts-orange) 53%, transparent);
    }
    .heat-6 {
      background: color-mix(in srgb, var(--vscode-charts-orange) 64%, transparent);
    }
    .heat-7 {
      background: color-mix(in srgb, var(--vscode-charts-orange) 74%, transparent);
    }
    .heat-8 {
      background: color-mix(in srgb, var(--vscode-charts-orange) 85%, transparent);
    }
    .heatmap td.unchanged {
      color: var(--vscode-descriptionForeground);
    }
    .verified {
      color: var(--vscode-editorWarning-foreground);
      font-weight: 600;
    }
  `;

  override render(): TemplateResult {
    const s = this.state;
    if (s === undefined) return html`<p class="muted" data-testid="waiting">Waiting for the audit…</p>`;
    switch (s.kind) {
      case 'running':
        return this.renderRunning(s);
      case 'report':
        return this.renderReport(s.report, s.fromCache);
      case 'error':
        return this.renderStopped(s.target.label, 'The audit failed', s.message, true);
      case 'cancelled':
        return this.renderStopped(s.target.label, 'The audit was cancelled', undefined, false);
      case 'untrusted':
        return html`
          <h1>Audit of ${s.target.label}</h1>
          <p class="problem" data-testid="untrusted">${s.message}</p>
          <div class="actions">
            <vscode-button @click=${() => this.post({ type: 'manageTrust' })}>Manage Workspace Trust</vscode-button>
          </div>
        `;
    }
  }

  private renderRunning(s: Extract<PanelState, { kind: 'running' }>): TemplateResult {
    return html`
      <h1>Auditing ${s.target.label}</h1>
      <p class="subtitle">${s.target.path}${s.target.entry === undefined ? nothing : html` (entry ${s.target.entry})`}</p>
      <vscode-progress-bar
        aria-label="Audit progress"
        .value=${Math.round(s.fraction * 100)}
        .max=${100}
      ></vscode-progress-bar>
      <p data-testid="progress"><strong>${STAGE_LABELS[s.stage] ?? s.stage}</strong>: ${s.message}</p>
      <div class="actions">
        <vscode-button secondary @click=${() => this.post({ type: 'cancel' })}>Cancel</vscode-button>
      </div>
    `;
  }

  private renderStopped(label: string, heading: string, message: string | undefined, isError: boolean) {
    return html`
      <h1>Audit of ${label}</h1>
      <p class=${isError ? 'problem' : 'muted'} data-testid=${isError ? 'error' : 'cancelled'}>
        ${heading}${message === undefined ? '.' : html`: ${message}`}
      </p>
      <div class="actions">
        <vscode-button @click=${() => this.post({ type: 'rerun' })}>Run again</vscode-button>
        ${isError ? html`<vscode-button secondary @click=${() => this.post({ type: 'showLog' })}>Show log</vscode-button>` : nothing}
      </div>
    `;
  }

  private renderReport(r: AuditReport, fromCache: boolean): TemplateResult {
    const verdict = r.verdict;
    return html`
      <h1 data-testid="title">Audit of ${r.subject.name}${r.subject.entry === undefined ? nothing : ` #${r.subject.entry}`}</h1>
      <div class="subtitle">
        ${kindLabel(r.subject.kind)} · audited ${new Date(r.createdAt).toLocaleString()}
        ${fromCache ? html` · <vscode-badge data-testid="from-cache">cached report</vscode-badge>` : nothing}
      </div>
      <div class="actions">
        <vscode-button @click=${() => this.post({ type: 'rerun' })}>Re-run</vscode-button>
        <vscode-button secondary @click=${() => this.post({ type: 'copyMarkdown' })}>Copy as Markdown</vscode-button>
        <vscode-button secondary @click=${() => this.post({ type: 'exportJson' })}>Export JSON…</vscode-button>
        <vscode-button secondary @click=${() => this.reveal('subject')}>Reveal Checkpoint</vscode-button>
        <span class="notice" role="status" aria-live="polite" data-testid="notice">${this.notice ?? ''}</span>
      </div>

      <section class="verdict ${verdict.level}" data-testid="verdict">
        <div class="verdict-label" data-testid="verdict-label">${verdict.label}</div>
        <div data-testid="summary">${verdict.summary}</div>
        ${
          r.findings.length === 0
            ? nothing
            : html`<div data-testid="findings">
              ${sortFindings(r.findings).map(
                (f) => html`<div class="finding">
                  <span class="finding-title severity-${f.severity}">${f.severity}: ${f.title}</span>
                  <code class="muted">${f.rule}</code>
                  <div>${f.detail}</div>
                </div>`,
              )}
            </div>`
        }
      </section>

      ${this.renderAnswers(r)} ${this.renderTriggers(r)} ${this.renderStatistics(r)} ${this.renderEvidence(r)}

      <section>
        <h2>Models</h2>
        ${this.renderIdentity('Diff', r.subject, () => this.reveal('subject'))}
        ${
          r.base === null
            ? html`<p class="muted">No base model was loaded.</p>`
            : this.renderIdentity('Base model', r.base, () => this.reveal('base'))
        }
        ${r.interpreters.map((it, i) =>
          this.renderIdentity(`Interpreter ${r.interpreters.length > 1 ? i + 1 : ''}`.trim(), it, () =>
            this.reveal('interpreter', i),
          ),
        )}
      </section>

      <section data-testid="execution">
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
      </section>
    `;
  }

  private renderAnswers(r: AuditReport): TemplateResult {
    return html`<section data-testid="answers">
      <h2>Described behaviours</h2>
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
              ${this.renderOutput(a.answer, 'answer')}
              <div class="muted">${who} · ${a.questionKind} · ${finishLabel(a.finishReason, a.tokens)}</div>
            </div>`;
            })
      }
    </section>`;
  }

  private renderTriggers(r: AuditReport): TemplateResult {
    const search = r.triggerSearch;
    const shown = r.triggers.find((t) => t.verified) ?? r.triggers.find((t) => t.verification !== undefined);
    return html`<section data-testid="triggers">
      <h2>Suspected triggers</h2>
      ${
        search === null
          ? html`<p class="muted" data-testid="triggers-empty">No trigger search ran for this checkpoint.</p>`
          : html`<p class="muted" data-testid="trigger-search">
              ${search.candidatesScored} candidate prefixes (${search.rowsScored} of ${search.budget} rows) scored in
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
            ${r.triggers.map((t) => this.renderTriggerRow(t))}
          </table>`
      }
      ${shown?.verification ? this.renderTriggerEvidence(shown) : nothing}
    </section>`;
  }

  private renderTriggerRow(t: SuspectedTrigger): TemplateResult {
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

  private renderTriggerEvidence(t: SuspectedTrigger): TemplateResult {
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
              ${this.renderOutput(sample.withTrigger, 'trigger-with')}
            </div>
            <div>
              <div class="column-label">Diffed, without it</div>
              ${this.renderOutput(sample.without, 'trigger-without')}
            </div>
            <div>
              <div class="column-label">Base, with the trigger</div>
              ${this.renderOutput(sample.baseWithTrigger, 'trigger-base')}
            </div>
          </div>
        </div>`,
      )}
    </div>`;
  }

  private renderEvidence(r: AuditReport): TemplateResult {
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
                  ${this.renderOutput(e.base, 'evidence-base')}
                </div>
                <div>
                  <div class="column-label">Diffed</div>
                  ${this.renderOutput(e.diffed, 'evidence-diffed')}
                </div>
              </div>
            </div>`,
            )
      }
    </section>`;
  }

  private renderStatistics(r: AuditReport): TemplateResult | typeof nothing {
    const s = r.statistics;
    if (s === null) return nothing;
    const map = heatMap(s);
    return html`<section data-testid="statistics">
      <h2>Weight statistics</h2>
      <p class="muted">
        ${s.source === 'low-rank' ? 'From the low-rank factors' : 'From finetuned − base'}: ${s.cells.length} modules,
        Frobenius norm ${s.frobeniusNorm.toPrecision(4)}, largest rank ${s.maxRank}. Each cell: ‖ΔW‖ as a percentage
        of ‖W‖, the base weight (hover for the norm, effective rank and top singular values).
      </p>
      <table class="heatmap" data-testid="heatmap">
        <tr><th>Layer</th>${map.modules.map((m) => html`<th>${m.replace('_proj', '')}</th>`)}</tr>
        ${map.rows.map(
          (row, layer) => html`<tr>
            <th>${layer}</th>
            ${row.map((c) =>
              c.value === undefined
                ? html`<td class="cell unchanged" title=${c.tooltip}>·</td>`
                : html`<td class="cell heat-${c.level}" data-testid="heat-cell" title=${c.tooltip}>
                    ${(100 * c.value).toFixed(1)}
                  </td>`,
            )}
          </tr>`,
        )}
      </table>
    </section>`;
  }

  private renderOutput(text: string, testId: string): TemplateResult {
    return text === ''
      ? html`<div class="output empty-output" data-testid=${testId}>(empty)</div>`
      : html`<div class="output" data-testid=${testId}>${text}</div>`;
  }

  private renderIdentity(
    role: string,
    id: CheckpointIdentity | InterpreterIdentity,
    reveal: () => void,
  ): TemplateResult {
    const metadata = Object.entries(id.metadata);
    return html`<div class="identity" data-testid="identity">
      <div class="identity-head">
        <h3>${role}: ${id.name}</h3>
        <vscode-badge>${kindLabel(id.kind)}</vscode-badge>
        <vscode-button secondary @click=${reveal}>Reveal</vscode-button>
      </div>
      <table>
        <tr><th>Path</th><td><code>${id.path}${id.entry === undefined ? '' : `#${id.entry}`}</code></td></tr>
        ${'question' in id ? html`<tr><th>Question</th><td>${id.question} (${id.questionKind})</td></tr>` : nothing}
        <tr><th>SHA-256</th><td><code title=${id.sha256}>${shortHash(id.sha256)}…</code></td></tr>
        <tr><th>Size</th><td>${formatBytes(id.bytes)}</td></tr>
        ${metadata.map(([k, v]) => html`<tr><th>${k}</th><td>${String(v)}</td></tr>`)}
      </table>
    </div>`;
  }

  private reveal(which: RevealWhich, index?: number): void {
    this.post(index === undefined ? { type: 'reveal', which } : { type: 'reveal', which, index });
  }
}

customElements.define('dit-report-view', ReportView);

declare global {
  interface HTMLElementTagNameMap {
    'dit-report-view': ReportView;
  }
}
