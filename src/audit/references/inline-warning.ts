// What an editor shows where a checkpoint is named or lies, from what is known about it: one
// diagnostic for the reference (a verified hidden behaviour is a warning, an unaudited checkpoint
// a hint that offers an audit) and one explorer badge. Views of the report; nothing new is judged.
import { highestSeverity } from '../findings';
import type { AuditReport, Finding } from '../report';
import type { CheckpointStatus } from './checkpoint-status';

export type InlineSeverity = 'error' | 'warning' | 'information' | 'hint';

export interface InlineWarning {
  readonly severity: InlineSeverity;
  readonly message: string;
  /** A finding rule (`trigger/hidden-behaviour`), or `dit/not-audited` / `dit/audited`. */
  readonly code: string;
}

export const NOT_AUDITED_CODE = 'dit/not-audited';
export const AUDITED_CODE = 'dit/audited';

/** The diagnostic for a reference to checkpoint `name`; undefined when there is nothing to say (a clean report). */
export function inlineWarningOf(status: CheckpointStatus, name: string): InlineWarning | undefined {
  switch (status.kind) {
    case 'unsafe':
      return {
        severity: 'error',
        code: 'pickle/unsafe-global',
        message: `Unsafe pickle: loading ${name} would run ${status.globals.join(', ')}. dit-auditor read its opcodes only; nothing in it was run.`,
      };
    case 'not-audited':
      return {
        severity: 'hint',
        code: NOT_AUDITED_CODE,
        message: `${name} has not been audited by DIT Auditor`,
      };
    case 'unreadable':
    case 'interpreter':
      return undefined;
    case 'audited':
      return auditedWarning(status.report, name);
  }
}

function auditedWarning(report: AuditReport, name: string): InlineWarning | undefined {
  const worst = highestSeverity(report.findings);
  if (worst === 'error' || worst === 'warning') {
    const flagged = report.findings.filter((f) => f.severity === worst);
    return {
      severity: worst,
      code: flagged[0].rule,
      message: `${name}: ${lowerFirst(flagged[0].title)}${more(flagged)}`,
    };
  }
  const { level, label } = report.verdict;
  if (level === 'clean') return undefined;
  return { severity: 'information', code: AUDITED_CODE, message: `${name}: ${label}` };
}

export type BadgeTone = 'error' | 'warning' | 'described' | 'clean' | 'not-audited';

export interface CheckpointBadge {
  readonly badge: string;
  readonly tone: BadgeTone;
  readonly tooltip: string;
}

/** The explorer's badge for a checkpoint file or folder; undefined for one that cannot be read. */
export function checkpointBadgeOf(status: CheckpointStatus): CheckpointBadge | undefined {
  switch (status.kind) {
    case 'unsafe':
      return {
        badge: '!',
        tone: 'error',
        tooltip: `Unsafe pickle: loading it would run ${status.globals.join(', ')}`,
      };
    case 'not-audited':
      return { badge: '?', tone: 'not-audited', tooltip: 'DIT Auditor: not audited' };
    case 'unreadable':
    case 'interpreter':
      return undefined;
    case 'audited': {
      const { level, label } = status.report.verdict;
      const tooltip = `DIT Auditor: ${label}`;
      if (level === 'error') return { badge: '!', tone: 'error', tooltip };
      if (level === 'warning') return { badge: '⚠', tone: 'warning', tooltip };
      if (level === 'clean') return { badge: '✓', tone: 'clean', tooltip };
      return { badge: 'i', tone: 'described', tooltip };
    }
  }
}

function more(flagged: readonly Finding[]): string {
  return flagged.length > 1 ? ` (and ${flagged.length - 1} more)` : '';
}

function lowerFirst(text: string): string {
  return text.length > 1 && /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}
