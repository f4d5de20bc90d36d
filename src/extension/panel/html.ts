// The panel's HTML shell: a strict CSP, one nonce'd script, no inline style, nothing remote. The
// report itself never goes into this HTML: it arrives by message and is rendered as text.
import { randomBytes } from 'node:crypto';

export function makeNonce(): string {
  return randomBytes(18).toString('base64url');
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

export interface PanelHtmlOptions {
  /** `webview.cspSource`: the origin the webview loads extension resources from. */
  readonly cspSource: string;
  readonly nonce: string;
  /** `webview.asWebviewUri(dist/webview.js)`, as a string. */
  readonly scriptUri: string;
  /** `webview.asWebviewUri(dist/codicons/codicon.css)`: the codicon font, for `<vscode-icon>`. */
  readonly codiconsUri?: string;
  readonly title: string;
  /** The view the page holds: a report (the default) or a review. */
  readonly element?: 'dit-report-view' | 'dit-review-view';
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // Lit and @vscode-elements style their shadow roots with constructable stylesheets.
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(o.nonce)) throw new Error('a CSP nonce must be 16+ url-safe characters');
  const csp = contentSecurityPolicy(o.cspSource, o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(o.title)}</title>
${o.codiconsUri === undefined ? '' : `<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${escapeHtml(o.codiconsUri)}">\n`}</head>
<body>
<${o.element ?? 'dit-report-view'}></${o.element ?? 'dit-report-view'}>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}
