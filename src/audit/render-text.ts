// The report as compact plain text, for a terminal. Model output is printed as inert text.
import { highestSeverity } from './findings';
import type { AuditReport, CheckpointIdentity } from './report';
import { oneLine, showControls } from './untrusted-text';

export function renderReportText(report: AuditReport): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line(`dit-audit report · dit-auditor ${report.engineVersion} · ${report.createdAt}`);
  line(`subject      ${identity(report.subject)}`);
  if (report.base) line(`base         ${identity(report.base)}`);
  report.interpreters.forEach((i, n) => {
    line(`interpreter  #${n} ${identity(i)}`);
  });
  if (report.executionProvider) {
    const t = report.timings;
    line(
      `ran on       ${report.executionProvider.name} · total ${seconds(t.totalMs)} ` +
        `(load ${seconds(t.loadMs)}, interpret ${seconds(t.interpretMs)}, evidence ${seconds(t.evidenceMs)})`,
    );
  }
  if (report.answers.length > 0) {
    line();
    line('Answers');
    for (const a of report.answers) {
      const who = a.interpreter === null ? 'finetune' : `#${a.interpreter}`;
      line(`  [${who} ${a.questionKind}] ${oneLine(a.question)}`);
      line(`    ${indent(showControls(a.answer) || '(no answer)', '    ')}`);
      line(`    (${a.tokens} tokens, ${a.finishReason})`);
    }
  }
  if (report.evidence.length > 0) {
    line();
    line('Evidence: ordinary prompts, base vs finetune');
    for (const e of report.evidence) {
      line(`  > ${oneLine(e.prompt)}${e.base === e.diffed ? '   (same)' : ''}`);
      line(`    base:     ${oneLine(e.base)}`);
      line(`    finetune: ${oneLine(e.diffed)}`);
    }
  }
  if (report.triggers.length > 0) {
    line();
    line('Suspected triggers');
    for (const t of report.triggers)
      line(`  ${oneLine(t.trigger)}  (${oneLine(t.method)}, score ${t.score})`);
  }
  line();
  line('Findings');
  if (report.findings.length === 0) line('  none');
  for (const f of report.findings) {
    line(`  ${f.severity.padEnd(7)} ${f.rule}  ${oneLine(f.title)}`);
    line(`          ${oneLine(f.detail)}`);
  }
  line();
  line(`Verdict: ${verdict(report)}`);
  return `${out.join('\n')}\n`;
}

export function verdict(report: AuditReport): string {
  const worst = highestSeverity(report.findings);
  if (worst === 'error') return 'findings: errors (see above)';
  if (worst === 'warning') return 'findings: warnings (see above)';
  return 'clean: no finding above info';
}

function identity(c: CheckpointIdentity & { question?: string; questionKind?: string }): string {
  const parts = [c.kind, oneLine(c.name)];
  if (c.entry !== undefined) parts.push(`entry #${c.entry}`);
  parts.push(`sha256 ${c.sha256.slice(0, 12)}`, size(c.bytes));
  const facts = Object.entries(c.metadata).map(([k, v]) => `${oneLine(k)}=${oneLine(String(v))}`);
  if (facts.length > 0) parts.push(facts.join(' '));
  const head = parts.join(' · ');
  const question = c.question ? `\n             asks (${c.questionKind}): ${oneLine(c.question)}` : '';
  return `${head}\n             ${oneLine(c.path)}${question}`;
}

function indent(text: string, by: string): string {
  return text.replace(/\n/g, `\n${by}`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function size(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
