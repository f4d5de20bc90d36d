// The report as compact plain text, for a terminal. Model output is printed as inert text.
import type { AuditReport, CheckpointIdentity } from './report';
import { formatBytes, formatMs, plural } from './units';
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
      `ran on       ${report.executionProvider.name}${report.executionProvider.precision ? ` ${report.executionProvider.precision.name}` : ''} · total ${formatMs(t.totalMs)} ` +
        `(load ${formatMs(t.loadMs)}, interpret ${formatMs(t.interpretMs)}, evidence ${formatMs(t.evidenceMs)}, ` +
        `triggers ${formatMs(t.triggerMs)})`,
    );
  }
  if (report.answers.length > 0) {
    line();
    line('Answers');
    for (const a of report.answers) {
      const who = a.interpreter === null ? 'finetune' : `#${a.interpreter}`;
      line(`  [${who} ${a.questionKind}] ${oneLine(a.question)}`);
      line(`    ${indent(showControls(a.answer) || '(no answer)', '    ')}`);
      line(`    (${plural(a.tokens, 'token')}, ${a.finishReason})`);
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
  const search = report.triggerSearch;
  if (search) {
    line();
    line(
      `Trigger search: ${plural(search.candidatesScored, 'candidate')} (${search.rowsScored} of ${plural(search.budget, 'row')}) scored in ${formatMs(report.timings.triggerMs)} ` +
        `(${search.stoppedBy}; ${search.singleTokens} of ${search.vocabulary} tokens tried alone); looking for ${search.keywords.length > 0 ? search.keywords.map(oneLine).join(', ') : 'any change of answer'}`,
    );
    for (const t of report.triggers) {
      const v = t.verification;
      const rates = v
        ? `, with ${pct(v.withRate)} / without ${pct(v.withoutRate)} / base ${pct(v.baseWithRate)}`
        : '';
      line(
        `  ${t.verified ? 'VERIFIED' : 'suspect '} ${JSON.stringify(showControls(t.trigger))}  (${t.method}, KL ${t.score.toFixed(3)}${rates})`,
      );
    }
    const verified = report.triggers.find((t) => t.verified && t.verification);
    if (verified?.verification) {
      line(`  Side by side, ${JSON.stringify(showControls(verified.trigger))} before each prompt:`);
      for (const sample of verified.verification.samples) {
        line(`  > ${oneLine(sample.prompt)}`);
        line(`    with:      ${oneLine(sample.withTrigger)}`);
        line(`    without:   ${oneLine(sample.without)}`);
        line(`    base with: ${oneLine(sample.baseWithTrigger)}`);
      }
    }
  }
  if (report.statistics) {
    const s = report.statistics;
    line();
    line(
      `Weight statistics (${s.source}): ${plural(s.cells.length, 'module')} over ${plural(s.layers, 'layer')}, ` +
        `Frobenius norm ${s.frobeniusNorm.toPrecision(4)}, largest rank ${s.maxRank}`,
    );
    const top = [...s.cells].sort((a, b) => b.relativeNorm - a.relativeNorm).slice(0, 3);
    for (const c of top)
      line(
        `  layer ${c.layer} ${c.module}: ‖ΔW‖ ${c.frobeniusNorm.toPrecision(3)} (${(100 * c.relativeNorm).toFixed(1)} % of ‖W‖), ` +
          `effective rank ${c.effectiveRank.toFixed(2)}`,
      );
  }
  line();
  line('Findings');
  if (report.findings.length === 0) line('  none');
  for (const f of report.findings) {
    line(`  ${f.severity.padEnd(7)} ${f.rule}  ${oneLine(f.title)}`);
    line(`          ${oneLine(f.detail)}`);
  }
  line();
  line(`Verdict: ${oneLine(report.verdict.label)}`);
  return `${out.join('\n')}\n`;
}

function pct(x: number): string {
  return `${Math.round(100 * x)} %`;
}

function identity(c: CheckpointIdentity & { question?: string; questionKind?: string }): string {
  const parts = [c.kind, oneLine(c.name)];
  if (c.entry !== undefined) parts.push(`entry #${c.entry}`);
  parts.push(`sha256 ${c.sha256.slice(0, 12)}`, formatBytes(c.bytes));
  const facts = Object.entries(c.metadata).map(([k, v]) => `${oneLine(k)}=${oneLine(String(v))}`);
  if (facts.length > 0) parts.push(facts.join(' '));
  const head = parts.join(' · ');
  const question = c.question ? `\n             asks (${c.questionKind}): ${oneLine(c.question)}` : '';
  return `${head}\n             ${oneLine(c.path)}${question}`;
}

function indent(text: string, by: string): string {
  return text.replace(/\n/g, `\n${by}`);
}
