// The report as Markdown ("copy as Markdown"). Whatever came from a model or a checkpoint goes in
// code spans or fenced blocks whose fences are longer than any backtick run inside, so it renders
// as literal text and can inject neither Markdown nor HTML; untrusted prose is backslash-escaped.
// Control and bidi characters are shown as escapes everywhere.

import type { AuditReport, CheckpointIdentity } from './report';
import { plural } from './units';
import { showControls } from './untrusted-text';

export function renderReportMarkdown(report: AuditReport): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  push(`# DIT audit of ${code(report.subject.name)}`, '');
  push(`**Verdict:** ${escapeText(report.verdict.label)}`, '', escapeText(report.verdict.summary), '');
  push('## Checkpoints', '');
  push(`- **Subject:** ${identity(report.subject)}`);
  if (report.base) push(`- **Base:** ${identity(report.base)}`);
  report.interpreters.forEach((i, n) => {
    push(`- **Interpreter #${n}:** ${identity(i)}; asks (${i.questionKind}) ${code(i.question)}`);
  });
  if (report.executionProvider) {
    const t = report.timings;
    push(
      `- **Ran on:** ${code(report.executionProvider.name)}${report.executionProvider.precision ? ` at ${code(report.executionProvider.precision.name)}` : ''}, total ${seconds(t.totalMs)} ` +
        `(load ${seconds(t.loadMs)}, interpret ${seconds(t.interpretMs)}, evidence ${seconds(t.evidenceMs)}, ` +
        `triggers ${seconds(t.triggerMs)})`,
    );
  }
  push('');
  if (report.answers.length > 0) {
    push('## Answers', '');
    for (const a of report.answers) {
      const who = a.interpreter === null ? 'the finetune' : `interpreter #${a.interpreter}`;
      push(`**${a.questionKind}**, asked of ${who}: ${code(a.question)}`, '');
      push(fenced(a.answer), '');
      push(`${plural(a.tokens, 'token')}, ${a.finishReason}`, '');
    }
  }
  if (report.evidence.length > 0) {
    push('## Evidence: ordinary prompts, base vs finetune', '');
    for (const e of report.evidence) {
      push(
        `### ${code(e.prompt)}`,
        '',
        'Base:',
        '',
        fenced(e.base),
        '',
        'Finetune:',
        '',
        fenced(e.diffed),
        '',
      );
    }
  }
  const search = report.triggerSearch;
  if (search) {
    push('## Suspected triggers', '');
    push(
      `${plural(search.candidatesScored, 'candidate')} (${search.rowsScored} of ${plural(search.budget, 'row')}) scored in ${seconds(report.timings.triggerMs)} (${search.stoppedBy}); ` +
        `behaviour looked for: ${search.keywords.length > 0 ? search.keywords.map(code).join(', ') : 'any change of answer'}.`,
      '',
    );
    if (report.triggers.length > 0) {
      push(
        '| trigger | verified | method | KL | with | without | base with |',
        '| --- | --- | --- | --- | --- | --- | --- |',
      );
      for (const t of report.triggers) {
        const v = t.verification;
        const rate = (x: number | undefined) => (x === undefined ? '' : `${Math.round(100 * x)} %`);
        push(
          `| ${tableCode(t.trigger)} | ${t.verified ? '**yes**' : 'no'} | ${t.method} | ${t.score.toFixed(3)} | ` +
            `${rate(v?.withRate)} | ${rate(v?.withoutRate)} | ${rate(v?.baseWithRate)} |`,
        );
      }
      push('');
    }
    const verified = report.triggers.find((t) => t.verified);
    for (const sample of verified?.verification?.samples ?? []) {
      push(
        `### ${code(sample.prompt)}`,
        '',
        `With ${code(verified?.trigger ?? '')}:`,
        '',
        fenced(sample.withTrigger),
        '',
      );
      push(
        'Without:',
        '',
        fenced(sample.without),
        '',
        'Base model, with it:',
        '',
        fenced(sample.baseWithTrigger),
        '',
      );
    }
  }
  if (report.statistics) {
    const s = report.statistics;
    push('## Weight statistics', '');
    push(
      `${s.source} diff, ${s.cells.length} modules, Frobenius norm ${s.frobeniusNorm.toPrecision(4)}, largest rank ${s.maxRank}.`,
      '',
    );
    push(
      '| layer | module | rank | ‖ΔW‖ | ‖ΔW‖/‖W‖ | effective rank | top singular values |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const c of s.cells)
      push(
        `| ${c.layer} | ${c.module} | ${c.rank} | ${c.frobeniusNorm.toPrecision(3)} | ${c.relativeNorm.toPrecision(3)} | ` +
          `${c.effectiveRank.toFixed(2)} | ${c.topSingularValues.map((v) => v.toPrecision(3)).join(', ')} |`,
      );
    push('');
  }
  push('## Findings', '');
  if (report.findings.length === 0) push('None.');
  for (const f of report.findings) {
    push(`- **${f.severity}** ${code(f.rule)}: ${escapeText(f.title)}. ${escapeText(f.detail)}`);
  }
  push('', `dit-auditor ${code(report.engineVersion)}, ${code(report.createdAt)}`);
  return `${out.join('\n')}\n`;
}

function identity(c: CheckpointIdentity): string {
  const entry = c.entry === undefined ? '' : ` entry #${c.entry}`;
  const facts = Object.entries(c.metadata).map(([k, v]) => `${k}=${v}`);
  return (
    `${code(c.name)}${entry} (${c.kind}), sha256 ${code(c.sha256)}, ${c.bytes} bytes, at ${code(c.path)}` +
    (facts.length > 0 ? `; ${code(facts.join(', '))}` : '')
  );
}

/** A code span: literal whatever it holds. Newlines become spaces (a span cannot hold them). */
export function code(text: string): string {
  const flat = showControls(text).replace(/\r?\n/g, ' ');
  const fence = '`'.repeat(longestRun(flat, '`') + 1);
  // Padding keeps a leading or trailing backtick from joining the fence; it is stripped on render.
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat.trim() === '' ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A code span inside a table cell: GFM splits cells at every `|`, even in code, unless escaped. */
export function tableCode(text: string): string {
  return code(text).replace(/\|/g, '\\|');
}

/** A fenced block: literal text across lines. */
export function fenced(raw: string): string {
  const text = showControls(raw);
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
  return `${fence}text\n${text}\n${fence}`;
}

/**
 * Untrusted prose (a finding quotes a model) on one line, every character that could start
 * emphasis, code, a link, an autolink, HTML, an entity, a table cell or math backslash-escaped.
 */
export function escapeText(text: string): string {
  return showControls(text)
    .replace(/\r?\n/g, ' ')
    .replace(/[\\`*_{}[\]()<>&|~!$:]/g, '\\$&');
}

function longestRun(text: string, char: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
