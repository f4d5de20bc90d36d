// The report panel: one Lit element that renders the state the extension host sends. Every piece of
// model output (answers, evidence, finding details, names from files) goes through Lit text
// bindings, which create text nodes: a model that says `<img src=x onerror=…>` shows those
// characters. Nothing here or in sections/ uses unsafeHTML, innerHTML or attribute-built markup.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { html, LitElement, type TemplateResult } from 'lit';
import type { AuditReport } from '../src/audit/report';
import type { PanelState, Post } from './host';
import { reportStyles } from './report-styles';
import { answersSection } from './sections/answers';
import { evidenceSection } from './sections/evidence';
import { executionSection } from './sections/execution';
import { modelsSection } from './sections/models';
import { reportHeader } from './sections/report-header';
import { runningView, stoppedView, untrustedView } from './sections/states';
import { statisticsSection } from './sections/statistics';
import { triggersSection } from './sections/triggers';
import { verdictSection } from './sections/verdict';

export class ReportView extends LitElement {
  static override properties = {
    state: { attribute: false },
    notice: { attribute: false },
  };

  static override styles = reportStyles;

  declare state: PanelState | undefined;
  declare notice: string | undefined;
  /** Set by main.ts: posts a message to the extension host. */
  post: Post = () => {};

  constructor() {
    super();
    this.state = undefined;
    this.notice = undefined;
  }

  override render(): TemplateResult {
    const s = this.state;
    // Read at click time: main.ts may set `post` after a render.
    const post: Post = (message) => this.post(message);
    if (s === undefined) return html`<p class="muted" data-testid="waiting">Waiting for the audit…</p>`;
    switch (s.kind) {
      case 'running':
        return runningView(s, post);
      case 'report':
        return this.renderReport(s.report, s.fromCache, post);
      case 'error':
        return stoppedView(s.target.label, 'The audit failed', s.message, true, post);
      case 'cancelled':
        return stoppedView(s.target.label, 'The audit was cancelled', undefined, false, post);
      case 'untrusted':
        return untrustedView(s, post);
    }
  }

  private renderReport(r: AuditReport, fromCache: boolean, post: Post): TemplateResult {
    return html`
      ${reportHeader(r, fromCache, this.notice, post)} ${verdictSection(r)} ${answersSection(r)}
      ${triggersSection(r)} ${statisticsSection(r)} ${evidenceSection(r, post)} ${modelsSection(r, post)}
      ${executionSection(r, post)}
    `;
  }
}

customElements.define('dit-report-view', ReportView);

declare global {
  interface HTMLElementTagNameMap {
    'dit-report-view': ReportView;
  }
}
