// What changed between the old and the new version of a checkpoint, as its two reports say.
import type { AuditReport, Finding, Verdict } from '../report';
import { describedText } from '../verdict';

export interface ReportChanges {
  /** In the new report and not the old (the same rule and title). */
  readonly newFindings: readonly Finding[];
  /** In the old report and not the new. */
  readonly resolvedFindings: readonly Finding[];
  /** The interpreter's description, when it changed (null: nothing described). */
  readonly description: { readonly old: string | null; readonly new: string | null } | null;
  readonly verdict: { readonly old: Verdict | null; readonly new: Verdict | null };
}

export function compareReports(old: AuditReport | null, now: AuditReport | null): ReportChanges {
  const before = old?.findings ?? [];
  const after = now?.findings ?? [];
  const keys = (fs: readonly Finding[]) => new Set(fs.map(keyOf));
  const beforeKeys = keys(before);
  const afterKeys = keys(after);
  const said = (r: AuditReport | null) => (r ? (describedText(r.answers) ?? null) : null);
  const description = { old: said(old), new: said(now) };
  return {
    newFindings: after.filter((f) => !beforeKeys.has(keyOf(f))),
    resolvedFindings: before.filter((f) => !afterKeys.has(keyOf(f))),
    description: description.old === description.new ? null : description,
    verdict: { old: old?.verdict ?? null, new: now?.verdict ?? null },
  };
}

function keyOf(f: Finding): string {
  return `${f.rule}\0${f.title}`;
}
