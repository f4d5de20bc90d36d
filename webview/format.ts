// Pure helpers of the report view: no DOM, so that the unit tests (Node) can run them.
import type { AuditReport, CheckpointIdentity, Finding, Severity } from '../src/audit/report';

/** As the CLI's verdict: info findings (a described behaviour) leave a diff clean. */
export type VerdictLevel = 'clean' | 'warning' | 'error';

export interface Verdict {
  readonly level: VerdictLevel;
  readonly label: string;
  readonly summary: string;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export function worstSeverity(findings: readonly Finding[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings)
    if (worst === undefined || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}

/** Findings, worst first (stable within a severity). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => [f, i] as const)
    .sort((a, b) => SEVERITY_RANK[b[0].severity] - SEVERITY_RANK[a[0].severity] || a[1] - b[1])
    .map(([f]) => f);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line of what the diff says it taught, from the first topic (else any) interpreter answer. */
export function describedBehaviour(report: AuditReport): string | undefined {
  const interpreted = report.answers.filter((a) => a.interpreter !== null && a.answer.trim() !== '');
  const first = interpreted.find((a) => a.questionKind === 'topic') ?? interpreted[0];
  return first?.answer.trim();
}

export function verdictOf(report: AuditReport): Verdict {
  const worst = worstSeverity(report.findings);
  const counts = `${plural(report.findings.length, 'finding')}, ${plural(report.triggers.length, 'suspected trigger')}`;
  const said = describedBehaviour(report);
  const described =
    said !== undefined
      ? `The diff describes itself as: “${said}”.`
      : report.executionProvider === null
        ? 'Nothing was loaded or run.'
        : 'No interpreter answered.';
  const summary = `${described} ${counts}.`;
  if (worst === 'error') return { level: 'error', label: 'Findings need attention', summary };
  if (worst === 'warning') return { level: 'warning', label: 'Review the findings', summary };
  return { level: 'clean', label: 'Clean: no finding above info', summary };
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function shortHash(sha256: string): string {
  return sha256.slice(0, 12);
}

const KIND_LABELS: Record<CheckpointIdentity['kind'], string> = {
  model: 'model',
  'full-finetune': 'full finetune',
  'peft-adapter': 'PEFT adapter',
  safetensors: 'safetensors weights',
  'torch-weight-diff': 'torch weight diff',
  'torch-dit-adapter': 'torch DIT-adapter',
};

export function kindLabel(kind: CheckpointIdentity['kind']): string {
  return KIND_LABELS[kind];
}

export function finishLabel(reason: AuditReport['answers'][number]['finishReason'], tokens: number): string {
  switch (reason) {
    case 'stop':
      return `${plural(tokens, 'token')}, ended`;
    case 'stop-string':
      return `${plural(tokens, 'token')}, stop string`;
    case 'length':
      return `${plural(tokens, 'token')}, cut at the limit`;
    case 'cancelled':
      return `${plural(tokens, 'token')}, cancelled`;
  }
}
