// The panel's pure helpers: the heat map, durations, sizes, labels; the findings' order.
import { describe, expect, it } from 'vitest';
import { sortFindings } from '../../src/audit/findings';
import type { Finding } from '../../src/audit/report';
import { formatBytes, formatMs, heatMap } from '../../webview/format';

const finding = (severity: Finding['severity'], title: string = severity): Finding => ({
  rule: `test/${title}`,
  severity,
  title,
  detail: '',
});

describe('heatMap', () => {
  it('lays the statistics out as layers × the seven modules, intensity relative to the largest', () => {
    const cell = (layer: number, module: 'q_proj' | 'down_proj', relativeNorm: number) => ({
      layer,
      module,
      rank: 1,
      frobeniusNorm: 2 * relativeNorm,
      relativeNorm,
      effectiveRank: 1,
      topSingularValues: [2 * relativeNorm],
    });
    const map = heatMap({
      source: 'low-rank',
      layers: 2,
      cells: [cell(0, 'q_proj', 0.1), cell(1, 'down_proj', 0.4)],
      frobeniusNorm: 1,
      maxRank: 1,
    });
    expect(map.modules).toHaveLength(7);
    expect(map.rows).toHaveLength(2);
    expect(map.rows[0][0]).toMatchObject({ value: 0.1, intensity: 0.25, level: 2 });
    expect(map.rows[1][6]).toMatchObject({ value: 0.4, intensity: 1, level: 8 });
    expect(map.rows[0][6].value).toBeUndefined();
    expect(map.rows[1][6].tooltip).toMatch(/layer 1 down_proj: ‖ΔW‖ 0\.800, 40\.00 % of ‖W‖/);
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
