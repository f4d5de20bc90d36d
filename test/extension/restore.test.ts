// What a panel restored after a reload may show.
import { describe, expect, it } from 'vitest';
import { restoredState } from '../../src/extension/panel/restore';
import { sampleReport } from './sample-report';

const target = { path: '/ws/diff', label: 'diff' };

describe('restoredState', () => {
  it('keeps a report that still matches the schema', () => {
    const report = sampleReport();
    const state = restoredState(
      JSON.parse(JSON.stringify({ state: { kind: 'report', target, report, fromCache: false } })),
    );
    expect(state).toEqual({ kind: 'report', target, report, fromCache: false });
  });

  it('drops a report that no longer matches the schema', () => {
    const report = { ...sampleReport(), schemaVersion: 99 };
    expect(restoredState({ state: { kind: 'report', target, report, fromCache: false } })).toBeUndefined();
  });

  it('turns an audit that was running into an error that says so', () => {
    const state = restoredState({
      state: { kind: 'running', target, stage: 'load', message: 'Loading', fraction: 0.2 },
    });
    expect(state).toEqual({
      kind: 'error',
      target,
      message: expect.stringMatching(/reloaded while the audit ran/),
    });
  });

  it('keeps errors and cancellations, and drops what it cannot read', () => {
    expect(restoredState({ state: { kind: 'cancelled', target } })).toEqual({ kind: 'cancelled', target });
    expect(restoredState(undefined)).toBeUndefined();
    expect(restoredState({})).toBeUndefined();
    expect(restoredState({ state: { kind: 'cancelled' } })).toBeUndefined();
  });
});
