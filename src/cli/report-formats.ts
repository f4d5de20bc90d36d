// How the CLI prints reports: text for a terminal, Markdown for a PR comment or a step summary,
// JSON (the report schema: one report, or a list of several), SARIF 2.1.0 for code scanning.
import { renderReportMarkdown, renderReportText } from '../audit';
import { renderReportsSarif } from '../audit/render-sarif';
import type { AuditReport } from '../audit/report';

export const REPORT_FORMATS = ['text', 'markdown', 'json', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface Failure {
  readonly path: string;
  readonly message: string;
}

export function renderReports(
  reports: readonly AuditReport[],
  format: ReportFormat,
  options: { readonly root: string; readonly failures: readonly Failure[]; readonly single: boolean },
): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(options.single ? reports[0] : reports, null, 2)}\n`;
    case 'sarif':
      return `${JSON.stringify(renderReportsSarif(reports, options), null, 2)}\n`;
    case 'markdown':
      return reports.map(renderReportMarkdown).join('\n---\n\n');
    case 'text':
      return reports.map(renderReportText).join('\n');
  }
}
