// One report panel: a webview that shows one audit target's state. It owns its webview's
// disposables; what the buttons do is decided by the registration (PanelActions).
import * as vscode from 'vscode';
import {
  type AuditTarget,
  type HostMessage,
  isWebviewMessage,
  type PanelState,
  type WebviewMessage,
} from '../../protocol/panel';
import { makeNonce, panelHtml } from './html';
import { panelIcon, webviewResources } from './webview-resources';

export const REPORT_VIEW_TYPE = 'ditAuditor.report';

export interface PanelMessageHandler {
  onMessage(panel: ReportPanel, message: WebviewMessage): void;
  onInvalidMessage(panel: ReportPanel, message: unknown): void;
}

export class ReportPanel implements vscode.Disposable {
  private current: PanelState;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;
  private disposed = false;

  static create(extensionUri: vscode.Uri, state: PanelState, handler: PanelMessageHandler): ReportPanel {
    const panel = vscode.window.createWebviewPanel(
      REPORT_VIEW_TYPE,
      titleOf(state),
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      webviewOptions(extensionUri),
    );
    return new ReportPanel(panel, extensionUri, state, handler);
  }

  /** Adopts a panel VS Code restored after a reload. */
  static revive(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    state: PanelState,
    handler: PanelMessageHandler,
  ): ReportPanel {
    panel.webview.options = webviewOptions(extensionUri);
    return new ReportPanel(panel, extensionUri, state, handler);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    state: PanelState,
    private readonly handler: PanelMessageHandler,
  ) {
    this.current = state;
    const webview = panel.webview;
    panel.iconPath = panelIcon(extensionUri);
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      ...webviewResources(webview, extensionUri),
      title: titleOf(state),
    });
    this.disposables.push(
      webview.onDidReceiveMessage((message: unknown) => {
        if (!isWebviewMessage(message)) {
          this.handler.onInvalidMessage(this, message);
          return;
        }
        // The webview (re)loaded: it has no state until it is sent one.
        if (message.type === 'ready') this.post({ type: 'state', state: this.current });
        else this.handler.onMessage(this, message);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get state(): PanelState {
    return this.current;
  }

  get target(): AuditTarget {
    return this.current.target;
  }

  setState(state: PanelState): void {
    if (this.disposed) return;
    this.current = state;
    this.panel.title = titleOf(state);
    this.post({ type: 'state', state });
  }

  notice(text: string): void {
    this.post({ type: 'notice', text });
  }

  reveal(): void {
    if (!this.disposed) this.panel.reveal(undefined, false);
  }

  private post(message: HostMessage): void {
    if (this.disposed) return;
    // A hidden webview drops messages; it asks again with 'ready' when shown.
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    enableForms: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
  };
}

function titleOf(state: PanelState): string {
  const prefix = state.kind === 'running' ? 'Auditing' : 'Audit';
  return `${prefix}: ${state.target.label}`;
}
