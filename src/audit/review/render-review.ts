// A review as Markdown (a pull-request comment, `$GITHUB_STEP_SUMMARY`) and as SARIF (the new
// versions' findings, located on the files in the repository).
import type * as Sarif from 'sarif';
import { code, escapeText, tableCode } from '../render-markdown';
import { renderReportsSarif } from '../render-sarif';
import type { Finding } from '../report';
import { plural } from '../units';
import type { Review, ReviewedCheckpoint, ReviewedVersion } from './run-review';

export function renderReviewMarkdown(review: Review): string {
  const lines = [
    `## dit-auditor review: ${plural(review.checkpoints.length, 'checkpoint')} changed`,
    '',
    `Base ${code(review.mergeBase.slice(0, 12))} (merge base of ${code(review.base.slice(0, 12))}), head ${code(review.head.slice(0, 12))}.`,
    '',
  ];
  if (review.checkpoints.length === 0) return `${lines.join('\n')}No checkpoint was added or changed.\n`;
  lines.push('| Checkpoint | Change | Before | After |', '| --- | --- | --- | --- |');
  for (const c of review.checkpoints) {
    lines.push(`| ${tableCode(c.path)} | ${c.status} | ${cell(c.old)} | ${cell(c.new)} |`);
  }
  for (const c of review.checkpoints) lines.push('', ...section(c));
  return `${lines.join('\n')}\n`;
}

export function renderReviewSarif(review: Review): Sarif.Log {
  const reports = review.checkpoints.flatMap((c) => (c.new?.report ? [c.new.report] : []));
  const failures = review.checkpoints.flatMap((c) =>
    c.new?.problem ? [{ path: c.path, message: c.new.problem }] : [],
  );
  return renderReportsSarif(reports, { root: review.root, failures });
}

function cell(version: ReviewedVersion | null): string {
  if (version === null) return '—';
  if (version.report === null) return 'not audited';
  return escapeText(version.report.verdict.label);
}

function section(c: ReviewedCheckpoint): string[] {
  const out = [`### ${code(c.path)} (${c.status})`, ''];
  const { newFindings, resolvedFindings, description } = c.changes;
  for (const [version, label] of [
    [c.new, 'New version'],
    [c.old, 'Old version'],
  ] as const) {
    if (version?.problem) out.push(`- ${label}: ${escapeText(version.problem)}`);
  }
  if (description) {
    const said = (text: string | null) => (text === null ? 'nothing' : `“${escapeText(text)}”`);
    out.push(`- Description: ${said(description.old)} → ${said(description.new)}`);
  }
  for (const f of newFindings) out.push(`- New: ${finding(f)}`);
  for (const f of resolvedFindings) out.push(`- Resolved: ${finding(f)}`);
  if (out.length === 2) out.push('- No finding changed.');
  return out;
}

function finding(f: Finding): string {
  return `**${f.severity}**: ${escapeText(f.title)} (${code(f.rule)})`;
}
