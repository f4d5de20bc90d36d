// The panel's pure helpers: verdict (as the CLI's), durations, sizes, labels.
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/audit/report';
import { describedBehaviour, formatBytes, formatMs, sortFindings, verdictOf } from '../../webview/format';
import { HOSTILE, sampleReport } from './sample-report';

const finding = (severity: Finding['severity'], title: string = severity): Finding => ({
  rule: `test/${title}`,
  severity,
  title,
  detail: '',
});

describe('verdictOf', () => {
  it('calls a diff with info findings only clean, as the CLI does', () => {
    const v = verdictOf(sampleReport());
    expect(v.level).toBe('clean');
    expect(v.summary).toBe(
      `The diff describes itself as: “${HOSTILE} cooking”. 1 finding, 0 suspected triggers.`,
    );
  });

  it('takes the worst finding', () => {
    expect(verdictOf(sampleReport({ findings: [finding('info'), finding('warning')] })).level).toBe(
      'warning',
    );
    expect(verdictOf(sampleReport({ findings: [finding('error'), finding('warning')] })).level).toBe('error');
    expect(verdictOf(sampleReport({ findings: [] })).label).toMatch(/^Clean/);
  });

  it('says when no interpreter answered, or nothing ran at all', () => {
    const report = sampleReport({ answers: [] });
    expect(describedBehaviour(report)).toBeUndefined();
    expect(verdictOf(report).summary).toMatch(/^No interpreter answered\./);
    const unsafe = sampleReport({
      answers: [],
      executionProvider: null,
      base: null,
      findings: [finding('error')],
    });
    expect(verdictOf(unsafe)).toMatchObject({
      level: 'error',
      summary: expect.stringMatching(/^Nothing was loaded or run\./),
    });
  });
});

describe('sortFindings', () => {
  it('puts the worst first and keeps the order within a severity', () => {
    const sorted = sortFindings([
      finding('info', 'a'),
      finding('error', 'b'),
      finding('info', 'c'),
      finding('warning', 'd'),
    ]);
    expect(sorted.map((f) => f.title)).toEqual(['b', 'd', 'a', 'c']);
  });
});

describe('formatting', () => {
  it('formats durations', () => {
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(1234)).toBe('1.23 s');
    expect(formatMs(45_600)).toBe('45.6 s');
    expect(formatMs(125_000)).toBe('2 min 5 s');
  });

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(12_137)).toBe('11.9 KiB');
    expect(formatBytes(16 * 1024 ** 3)).toBe('16.0 GiB');
  });
});
