// The panel's entry point: wires the view the page holds (a report or a review) to the VS Code
// webview API. The extension host is the source of truth; the last state is also kept in the
// webview state so that a restored panel (after a reload) can show it before the host answers.
import { type HostMessage, isHostMessage, isPanelState, type WebviewMessage } from '../src/protocol/panel';
import { isReviewMessage, reviewStateSchema } from '../src/protocol/review';
import type { ReportView } from './report-view';
import './report-view';
import type { ReviewView } from './review-view';
import './review-view';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const saved = vscode.getState();
const savedState = typeof saved === 'object' && saved !== null && 'state' in saved ? saved.state : undefined;
const report = document.querySelector('dit-report-view');
const review = document.querySelector('dit-review-view');
if (report) wireReport(report);
else if (review) wireReview(review);
else throw new Error('the panel has no <dit-report-view> or <dit-review-view>');

function wireReport(view: ReportView): void {
  view.post = (message) => vscode.postMessage(message);
  if (isPanelState(savedState)) view.state = savedState;
  let noticeTimer: ReturnType<typeof setTimeout> | undefined;
  const handle = (message: HostMessage): void => {
    switch (message.type) {
      case 'state':
        view.state = message.state;
        view.notice = undefined;
        vscode.setState({ state: message.state });
        break;
      case 'notice':
        view.notice = message.text;
        clearTimeout(noticeTimer);
        noticeTimer = setTimeout(() => {
          view.notice = undefined;
        }, 4000);
        break;
    }
  };
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isHostMessage(event.data)) handle(event.data);
  });
}

function wireReview(view: ReviewView): void {
  view.post = (message) => vscode.postMessage(message);
  const restored = reviewStateSchema.safeParse(savedState);
  if (restored.success) view.state = restored.data;
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (!isReviewMessage(event.data)) return;
    view.state = event.data.state;
    vscode.setState({ state: event.data.state });
  });
}

// A blocked resource is a bug in the panel: tell the host, which logs it.
document.addEventListener('securitypolicyviolation', (e) => {
  vscode.postMessage({
    type: 'cspViolation',
    directive: e.effectiveDirective.slice(0, 200),
    blocked: e.blockedURI.slice(0, 500),
  });
});

vscode.postMessage({ type: 'ready' });
