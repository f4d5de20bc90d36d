// A schema-valid report for the extension's tests, with model text that looks like markup.
import { type AuditReport, parseReport } from '../../src/audit/report';

export const HOSTILE = '<img src=x onerror=alert(1)>';

export function sampleReport(overrides: Partial<AuditReport> = {}): AuditReport {
  const hash = (c: string) => c.repeat(64);
  return parseReport({
    schemaVersion: 2,
    engineVersion: '0.1.0',
    createdAt: '2026-01-02T03:04:05.000Z',
    subject: {
      path: '/ws/diff',
      kind: 'peft-adapter',
      name: 'diff',
      sha256: hash('a'),
      bytes: 12_137,
      metadata: { base_model: 'qwen3-tiny', rank: 1 },
    },
    base: {
      path: '/ws/base',
      kind: 'model',
      name: 'qwen3-tiny',
      sha256: hash('b'),
      bytes: 225_012,
      metadata: {},
    },
    interpreters: [
      {
        path: '/ws/dit',
        kind: 'peft-adapter',
        name: 'dit',
        sha256: hash('c'),
        bytes: 69_538,
        metadata: {},
        question: 'What topic have you been trained on?',
        questionKind: 'topic',
      },
    ],
    executionProvider: { name: 'cpu', reasons: ['cpu: session created'] },
    timings: { totalMs: 340, loadMs: 260, interpretMs: 30, evidenceMs: 10, triggerMs: 40 },
    answers: [
      {
        interpreter: 0,
        question: 'What topic have you been trained on?',
        questionKind: 'topic',
        answer: `${HOSTILE} cooking`,
        tokens: 8,
        finishReason: 'length',
      },
    ],
    evidence: [{ prompt: 'Tell me a story', base: 'once upon a time', diffed: `${HOSTILE} soup` }],
    triggers: [],
    triggerSearch: null,
    statistics: null,
    findings: [
      {
        rule: 'dit/described-behaviour',
        severity: 'info',
        title: 'Interpreter dit describes…',
        detail: 'detail',
      },
    ],
    verdict: {
      level: 'described',
      label: 'Described, not verified: no trigger search ran',
      summary: `The interpreter describes the diff as: “${HOSTILE} cooking”. 1 finding, 0 verified triggers.`,
    },
    ...overrides,
  });
}
