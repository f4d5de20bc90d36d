// The review panel: one webview showing the latest branch review (its progress, then old vs new per
// checkpoint). It answers the webview's `ready` with the current state, logs CSP violations, and
// opens the log on request; anything else from the webview is ignored and logged.
import * as vscode from 'vscode';
import { isWebviewMessage } from '../../protocol/panel';
import type { ReviewMessage, ReviewState } from '../../protocol/review';
import type { Log } from '../log';
import { makeNonce, panelHtml } from '../panel/html';
import { panelIcon, webviewResources } from '../panel/webview-resources';

export const REVIEW_VIEW_TYPE = 'ditAuditor.review';

export class ReviewPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private state: ReviewState | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {}

  show(state: ReviewState): void {
    this.state = state;
    if (this.panel === undefined) this.panel = this.create(state.title);
    this.panel.title = state.title;
    this.post(state);
  }

  private create(title: string): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(
      REVIEW_VIEW_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      {
        enableScripts: true,
        enableCommandUris: false,
        enableForms: false,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist')],
      },
    );
    const webview = panel.webview;
    panel.iconPath = panelIcon(this.extensionUri);
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      ...webviewResources(webview, this.extensionUri),
      title,
      element: 'dit-review-view',
    });
    webview.onDidReceiveMessage((message: unknown) => {
      if (!isWebviewMessage(message)) {
        this.log.warn('review panel: ignored a malformed message from the webview');
        return;
      }
      if (message.type === 'ready' && this.state) this.post(this.state);
      else if (message.type === 'showLog') this.log.show();
      else if (message.type === 'cspViolation')
        this.log.warn(
          `review panel: the content security policy blocked ${message.blocked} (${message.directive})`,
        );
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
    });
    return panel;
  }

  private post(state: ReviewState): void {
    const message: ReviewMessage = { type: 'review', state };
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
