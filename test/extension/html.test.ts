// The panel's HTML shell: strict CSP with a nonce, one script, nothing inline, titles escaped.
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, escapeHtml, makeNonce, panelHtml } from '../../src/extension/panel/html';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

describe('panel HTML', () => {
  const nonce = makeNonce();
  const html = panelHtml({
    cspSource: CSP_SOURCE,
    nonce,
    scriptUri: `${CSP_SOURCE}/ext/dist/webview.js`,
    title: 'Audit: <img src=x onerror=alert(1)>',
  });

  it('declares a CSP that allows only the nonce’d script and the extension’s resources', () => {
    const csp = contentSecurityPolicy(CSP_SOURCE, nonce);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'nonce-${nonce}'`);
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(csp).not.toMatch(/https?:\/\/(?!file\+)/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`);
  });

  it('has exactly one script, carrying the nonce, and no inline script or style', () => {
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts).toEqual([`<script nonce="${nonce}" src="${CSP_SOURCE}/ext/dist/webview.js">`]);
    expect(html).toMatch(/<script[^>]*><\/script>/);
    expect(html).not.toMatch(/<style|<[^>]*\s(style|on\w+)=/i);
  });

  it('links the codicon stylesheet by the id <vscode-icon> looks for, from the extension only', () => {
    const withIcons = panelHtml({
      cspSource: CSP_SOURCE,
      nonce,
      scriptUri: `${CSP_SOURCE}/ext/dist/webview.js`,
      codiconsUri: `${CSP_SOURCE}/ext/dist/codicons/codicon.css`,
      title: 't',
    });
    expect(withIcons).toContain(
      `<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${CSP_SOURCE}/ext/dist/codicons/codicon.css">`,
    );
    expect(contentSecurityPolicy(CSP_SOURCE, nonce)).toContain(`font-src ${CSP_SOURCE}`);
  });

  it('escapes the title', () => {
    expect(html).toContain('<title>Audit: &lt;img src=x onerror=alert(1)&gt;</title>');
    expect(html).not.toContain('<img');
  });

  it('refuses a weak nonce', () => {
    expect(() => panelHtml({ cspSource: CSP_SOURCE, nonce: 'abc', scriptUri: 'x', title: 't' })).toThrow(
      /nonce/,
    );
    expect(() =>
      panelHtml({ cspSource: CSP_SOURCE, nonce: `"${'a'.repeat(20)}`, scriptUri: 'x', title: 't' }),
    ).toThrow();
  });

  it('makes a fresh url-safe nonce each time', () => {
    const nonces = new Set(Array.from({ length: 100 }, makeNonce));
    expect(nonces.size).toBe(100);
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter in text and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    expect(escapeHtml('plain text')).toBe('plain text');
  });
});
