// The panel's entry point: wires the view to the VS Code webview API. The extension host is the
// source of truth; the last state is also kept in the webview state so that a restored panel (after
// a reload) can show its report before the host answers.
import { type HostMessage, isHostMessage, isPanelState, type WebviewMessage } from '../src/protocol/panel';
import type { ReportView } from './report-view';
import './report-view';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const found = document.querySelector('dit-report-view');
if (found === null) throw new Error('the panel has no <dit-report-view>');
const view: ReportView = found;

view.post = (message) => vscode.postMessage(message);

const saved = vscode.getState();
if (typeof saved === 'object' && saved !== null && 'state' in saved && isPanelState(saved.state))
  view.state = saved.state;

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message: unknown = event.data;
  if (!isHostMessage(message)) return;
  handle(message);
});

function handle(message: HostMessage): void {
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
