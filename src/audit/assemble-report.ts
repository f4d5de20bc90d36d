// The report from what an audit found: its findings, in one order, and the verdict they lead to.

import type { AuditParts } from './audit-parts';
import {
  describedBehaviour,
  evidenceChanged,
  hiddenBehaviour,
  noTriggerVerified,
  sortFindings,
  subjectIsBase,
  unsafePickleFinding,
} from './findings';
import { type AuditReport, type Finding, REPORT_SCHEMA_VERSION } from './report';
import type { ModelRun } from './run-models';
import type { Subject } from './subject';
import { verdictOf } from './verdict';
import { ENGINE_VERSION } from './version';

export function assembleReport(
  parts: AuditParts,
  run: ModelRun,
  createdAt: string,
  totalMs: number,
): AuditReport {
  const { identity, isBase, plan } = parts;
  const verified = run.triggers.filter((t) => t.verified);
  const findings = sortFindings([
    ...(isBase ? [subjectIsBase(identity.path)] : []),
    ...verified.map((t) => hiddenBehaviour(t, run.triggerSearch?.keywords ?? [])),
    ...describedBehaviour(plan.interpreters, run.answers, verified.length > 0),
    ...(run.triggerSearch && verified.length === 0
      ? [noTriggerVerified(run.triggerSearch, run.triggers.length)]
      : []),
    ...evidenceChanged(run.evidence),
  ]);
  return {
    ...header(createdAt),
    subject: identity,
    base: parts.base,
    interpreters: [...plan.interpreters],
    executionProvider: run.executionProvider,
    timings: {
      totalMs: ms(totalMs),
      loadMs: ms(run.loadMs),
      interpretMs: ms(run.interpretMs),
      evidenceMs: ms(run.evidenceMs),
      triggerMs: ms(run.triggerMs),
    },
    answers: run.answers,
    evidence: run.evidence,
    triggers: run.triggers,
    triggerSearch: run.triggerSearch,
    statistics: run.statistics,
    findings,
    verdict: verdictOf({ ...run, findings, ran: true, hasDiff: !isBase }),
  };
}

/** An unsafe pickle: nothing was loaded or run, so the report holds the one finding. */
export function unsafeReport(subject: Subject, createdAt: string, totalMs: number): AuditReport {
  const findings: Finding[] = [unsafePickleFinding(subject.identity.path, subject.unsafeGlobals ?? [])];
  return {
    ...header(createdAt),
    subject: { ...subject.identity, metadata: { ...subject.identity.metadata } },
    base: null,
    interpreters: [],
    executionProvider: null,
    timings: { totalMs: ms(totalMs), loadMs: 0, interpretMs: 0, evidenceMs: 0, triggerMs: 0 },
    answers: [],
    evidence: [],
    triggers: [],
    triggerSearch: null,
    statistics: null,
    findings,
    verdict: verdictOf({
      findings,
      answers: [],
      triggers: [],
      triggerSearch: null,
      ran: false,
      hasDiff: true,
    }),
  };
}

function header(createdAt: string) {
  return { schemaVersion: REPORT_SCHEMA_VERSION, engineVersion: ENGINE_VERSION, createdAt } as const;
}

function ms(value: number): number {
  return Math.round(value * 10) / 10;
}
