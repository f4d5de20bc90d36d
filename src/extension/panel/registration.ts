// The report panels: one per audit target, re-used when the same target is audited again, and
// restored by VS Code after a reload (the serializer). Button clicks are routed to PanelActions.
import * as vscode from 'vscode';
import type { AuditReport } from '../../audit/report';
import { formatCheckpointRef } from '../../engine/checkpoint/reference';
import type { AuditTarget, PanelState, RevealWhich, WebviewMessage } from '../../protocol/panel';
import type { Log } from '../log';
import { type PanelMessageHandler, REPORT_VIEW_TYPE, ReportPanel } from './report-panel';
import { restoredState } from './restore';

/** What the panel's buttons do; implemented by the extension's services. */
export interface PanelActions {
  rerun(target: AuditTarget): void;
  cancel(target: AuditTarget): void;
  copyMarkdown(panel: ReportPanel, report: AuditReport): void;
  exportJson(panel: ReportPanel, report: AuditReport): void;
  reveal(report: AuditReport, which: RevealWhich, index?: number): void;
  showLog(): void;
  manageTrust(): void;
  installCudaProvider(): void;
  openDiff(report: AuditReport, index: number): void;
}

export class ReportPanels implements vscode.Disposable, PanelMessageHandler {
  private readonly panels = new Map<string, ReportPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private actions: PanelActions | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(REPORT_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, saved: unknown) => this.revive(panel, saved),
      }),
    );
  }

  /** Set once the services the actions need exist (they in turn need the panels). */
  setActions(actions: PanelActions): void {
    this.actions = actions;
  }

  /** The panel of `target`, created or revealed, showing `state`. */
  show(state: PanelState): ReportPanel {
    const key = formatCheckpointRef(state.target);
    const existing = this.panels.get(key);
    if (existing) {
      existing.setState(state);
      existing.reveal();
      return existing;
    }
    const panel = ReportPanel.create(this.extensionUri, state, this);
    this.track(key, panel);
    return panel;
  }

  get(target: AuditTarget): ReportPanel | undefined {
    return this.panels.get(formatCheckpointRef(target));
  }

  onMessage(panel: ReportPanel, message: WebviewMessage): void {
    const actions = this.actions;
    if (!actions) return;
    const state = panel.state;
    const report = state.kind === 'report' ? state.report : undefined;
    switch (message.type) {
      case 'ready':
        break;
      case 'rerun':
        actions.rerun(panel.target);
        break;
      case 'cancel':
        actions.cancel(panel.target);
        break;
      case 'copyMarkdown':
        if (report) actions.copyMarkdown(panel, report);
        break;
      case 'exportJson':
        if (report) actions.exportJson(panel, report);
        break;
      case 'reveal':
        if (report) actions.reveal(report, message.which, message.index);
        break;
      case 'showLog':
        actions.showLog();
        break;
      case 'manageTrust':
        actions.manageTrust();
        break;
      case 'installCudaProvider':
        actions.installCudaProvider();
        break;
      case 'openDiff':
        if (report) actions.openDiff(report, message.index);
        break;
      case 'cspViolation':
        this.log.warn(
          `report panel: the content security policy blocked ${message.blocked} (${message.directive})`,
        );
        break;
    }
  }

  onInvalidMessage(_panel: ReportPanel, message: unknown): void {
    let text: string;
    try {
      text = JSON.stringify(message).slice(0, 200);
    } catch {
      text = typeof message;
    }
    this.log.warn(`report panel: ignored a message that is not part of the protocol: ${text}`);
  }

  private revive(panel: vscode.WebviewPanel, saved: unknown): void {
    const state = restoredState(saved);
    if (state === undefined) {
      this.log.info('a report panel from an earlier session held no readable state; closed it');
      panel.dispose();
      return;
    }
    const key = formatCheckpointRef(state.target);
    if (this.panels.has(key)) {
      panel.dispose();
      return;
    }
    this.track(key, ReportPanel.revive(panel, this.extensionUri, state, this));
  }

  private track(key: string, panel: ReportPanel): void {
    this.panels.set(key, panel);
    panel.onDidDispose(() => {
      if (this.panels.get(key) === panel) this.panels.delete(key);
    });
  }

  dispose(): void {
    for (const panel of [...this.panels.values()]) panel.dispose();
    this.panels.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
