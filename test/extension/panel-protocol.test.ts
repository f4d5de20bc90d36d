// The panel protocol's guards: the webview is another process, its messages are input.
import { describe, expect, it } from 'vitest';
import { isAuditTarget, isHostMessage, isPanelState, isWebviewMessage } from '../../src/protocol/panel';
import { sampleReport } from './sample-report';

const target = { path: '/ws/diffs.pt', entry: 3, label: 'diffs.pt#3' };

describe('messages from the webview', () => {
  it.each([
    { type: 'ready' },
    { type: 'rerun' },
    { type: 'cancel' },
    { type: 'copyMarkdown' },
    { type: 'exportJson' },
    { type: 'showLog' },
    { type: 'manageTrust' },
    { type: 'installCudaProvider' },
    { type: 'openDiff', index: 0 },
    { type: 'reveal', which: 'subject' },
    { type: 'reveal', which: 'base' },
    { type: 'reveal', which: 'interpreter', index: 2 },
    { type: 'cspViolation', directive: 'img-src', blocked: 'https://example.com/x.png' },
  ])('accepts %j', (message) => {
    expect(isWebviewMessage(message)).toBe(true);
  });

  it.each([
    null,
    'rerun',
    [],
    {},
    { type: 'unknown' },
    { type: 'rerun', extra: 1 },
    { type: 'reveal', which: 'elsewhere' },
    { type: 'reveal', which: 'interpreter' },
    { type: 'reveal', which: 'interpreter', index: -1 },
    { type: 'reveal', which: 'interpreter', index: 1.5 },
    { type: 'reveal', which: 'subject', index: 0 },
    { type: 'cspViolation', directive: 'img-src' },
    { type: 'cspViolation', directive: 'img-src', blocked: 'x'.repeat(5000) },
    { type: 'cspViolation', directive: 1, blocked: '' },
    { type: 'openDiff' },
    { type: 'openDiff', index: -1 },
    { type: 'openDiff', index: '0' },
  ])('refuses %j', (message) => {
    expect(isWebviewMessage(message)).toBe(false);
  });
});

describe('messages to the webview', () => {
  it('accepts every panel state', () => {
    const report = sampleReport();
    for (const state of [
      { kind: 'running', target, stage: 'interpret', message: 'Asking', fraction: 0.5 },
      { kind: 'report', target, report, fromCache: true },
      { kind: 'error', target, message: 'base model not found' },
      { kind: 'cancelled', target },
      { kind: 'untrusted', target, message: 'Restricted Mode' },
    ]) {
      expect(isPanelState(state)).toBe(true);
      expect(isHostMessage({ type: 'state', state })).toBe(true);
    }
    expect(isHostMessage({ type: 'notice', text: 'Copied.' })).toBe(true);
  });

  it('refuses malformed states', () => {
    expect(isPanelState({ kind: 'running', target, stage: 'interpret', message: 'x', fraction: 1.5 })).toBe(
      false,
    );
    expect(isPanelState({ kind: 'running', target, stage: 'dance', message: 'x', fraction: 0 })).toBe(false);
    expect(isPanelState({ kind: 'report', target, report: {}, fromCache: false })).toBe(false);
    expect(isPanelState({ kind: 'cancelled', target: { path: '' } })).toBe(false);
    expect(isPanelState({ kind: 'other', target })).toBe(false);
    expect(isHostMessage({ type: 'notice' })).toBe(false);
    expect(isHostMessage({ type: 'state', state: null })).toBe(false);
  });
});

describe('audit targets', () => {
  it('checks the target shape', () => {
    expect(isAuditTarget(target)).toBe(true);
    expect(isAuditTarget({ path: '/a', label: 'a', entry: -1 })).toBe(false);
    expect(isAuditTarget({ path: '/a', label: 'a', more: true })).toBe(false);
    expect(isAuditTarget({ label: 'a' })).toBe(false);
  });
});
