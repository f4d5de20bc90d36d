// The report as data and its views: schema validation, plain text and Markdown that keep model
// output inert, and the cache key and file hashes that decide when a report is reused.
import { createHash } from 'node:crypto';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AuditReport,
  type CacheKeyParts,
  cacheKey,
  FileHasher,
  parseReport,
  renderReportMarkdown,
  renderReportText,
  reportJsonSchema,
  Verdict,
} from '../../src/audit';
import { code, escapeText, fenced } from '../../src/audit/render-markdown';
import { tempDir } from '../engine/helpers';

const HOSTILE =
  '<img src=x onerror=alert(1)> ``` [link](javascript:alert(1)) **bold**\n# heading\x1b[31mred\u202e';

/** What the schema test reads of reportJsonSchema()'s document. */
interface JsonSchemaObject {
  required: string[];
  properties: Record<string, { properties?: Record<string, { enum?: unknown[] }> }>;
}

function sampleReport(answer = HOSTILE): AuditReport {
  const id = { sha256: 'a'.repeat(64), bytes: 1234, metadata: {} };
  return parseReport({
    schemaVersion: 2,
    engineVersion: '0.1.0',
    createdAt: '2025-01-02T03:04:05.000Z',
    subject: {
      ...id,
      path: '/m/diff',
      kind: 'peft-adapter',
      name: 'diff`name',
      metadata: { base_model: 'org/base' },
    },
    base: { ...id, path: '/m/base', kind: 'model', name: 'org/base' },
    interpreters: [
      { ...id, path: '/m/dit', kind: 'peft-adapter', name: 'dit', question: 'Q?', questionKind: 'topic' },
    ],
    executionProvider: { name: 'cpu', reasons: ['cpu: session created'] },
    timings: { totalMs: 1500, loadMs: 500, interpretMs: 600, evidenceMs: 400, triggerMs: 2500 },
    answers: [
      { interpreter: 0, question: 'Q?', questionKind: 'topic', answer, tokens: 9, finishReason: 'length' },
    ],
    evidence: [{ prompt: 'hi', base: 'hello', diffed: answer }],
    triggers: [
      {
        trigger: answer,
        tokens: [5, 6],
        method: 'search',
        score: 9.5,
        verified: true,
        verification: {
          criterion: 'mentions',
          withRate: 1,
          withoutRate: 0,
          baseWithRate: 0,
          klWith: 9.1,
          klWithout: 0.01,
          words: ['comet'],
          samples: [{ prompt: 'hi', withTrigger: answer, without: 'plain', baseWithTrigger: 'plain too' }],
        },
      },
    ],
    triggerSearch: {
      candidatesScored: 300,
      rowsScored: 900,
      singleTokens: 200,
      vocabulary: 3000,
      budget: 1200,
      stoppedBy: 'converged',
      baselineScore: 0.01,
      keywords: ['comet'],
      searchPrompts: ['a'],
      verifyPrompts: ['hi'],
      behaviourWithoutTrigger: 0,
      priorTop: [],
    },
    statistics: {
      source: 'low-rank',
      layers: 1,
      cells: [
        {
          layer: 0,
          module: 'q_proj',
          rank: 1,
          frobeniusNorm: 1.5,
          relativeNorm: 0.16,
          effectiveRank: 1,
          topSingularValues: [1.5],
        },
      ],
      frobeniusNorm: 1.5,
      maxRank: 1,
    },
    findings: [{ rule: 'dit/described-behaviour', severity: 'info', title: 't', detail: `said ${answer}` }],
    verdict: { level: 'described', label: 'Described, not verified', summary: `said ${answer}` },
  });
}

describe('the report schema', () => {
  it('fills defaults and rejects a bad report with the path of the first problem', () => {
    const report = sampleReport();
    expect(parseReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    const bad = JSON.parse(JSON.stringify(report));
    bad.answers[0].finishReason = 'exploded';
    expect(() => parseReport(bad)).toThrow(/^not a dit-auditor report: answers\.0\.finishReason: /);
    expect(() => parseReport({ ...report, subject: { ...report.subject, sha256: 'xyz' } })).toThrow(
      /subject\.sha256/,
    );
    expect(() => parseReport('nope')).toThrow(/\(root\)/);
  });

  it('publishes a JSON Schema that accepts a report and rejects a bad one', () => {
    const schema = reportJsonSchema() as JsonSchemaObject;
    expect([...schema.required].sort()).toEqual(Object.keys(AuditReport.shape).sort());
    expect(schema.properties.verdict.properties?.level.enum).toEqual(Verdict.shape.level.options);
    // zod reads the published document back on its own: what it enforces is what the JSON says.
    const validator = z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema);
    const report = sampleReport();
    expect(validator.safeParse(report).success).toBe(true);
    const { findings: _, ...noFindings } = report;
    const bad = {
      'an unknown verdict level': { ...report, verdict: { ...report.verdict, level: 'alarming' } },
      'another schema version': { ...report, schemaVersion: 1 },
      'no findings': noFindings,
      'a sha256 that is not hex': { ...report, subject: { ...report.subject, sha256: 'xyz' } },
      'an unknown finish reason': {
        ...report,
        answers: [{ ...report.answers[0], finishReason: 'exploded' }],
      },
    };
    for (const [what, value] of Object.entries(bad))
      expect(validator.safeParse(value).success, what).toBe(false);
  });
});

describe('the text view', () => {
  it('shows answers verbatim but escapes terminal control and bidi characters', () => {
    const text = renderReportText(sampleReport());
    expect(text).toContain('<img src=x onerror=alert(1)>');
    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('\u202e');
    expect(text).toContain('\\u{1b}[31mred\\u{202e}');
    expect(text).toMatch(/Verdict: Described, not verified\n$/);
    expect(text).toMatch(
      /Trigger search: 300 candidates \(900 of 1200 rows\) scored in 2\.50 s \(converged; 200 of 3000 tokens tried alone\); looking for comet/,
    );
    expect(text).toMatch(
      / {2}VERIFIED "<img src=x onerror=alert\(1\)>.*\\u\{1b\}.*" {2}\(search, KL 9\.500, with 100 % \/ without 0 % \/ base 0 %\)/,
    );
    expect(text).toMatch(/layer 0 q_proj: ‖ΔW‖ 1\.50 \(16\.0 % of ‖W‖\), effective rank 1\.00/);
    expect(text).toMatch(/ran on {7}cpu · total 1\.50 s/);
  });
});

describe('the Markdown view', () => {
  it('puts model output in fences longer than any backtick run inside', () => {
    expect(fenced('a ``` b ```` c')).toBe('`````text\na ``` b ```` c\n`````');
    expect(fenced('plain')).toBe('```text\nplain\n```');
    expect(code('a`b')).toBe('``a`b``');
    expect(code('`edge`')).toBe('`` `edge` ``');
    expect(code('two\nlines')).toBe('`two lines`');
    expect(escapeText('<b>*x*</b> [a](b) & c | d')).toBe('\\<b\\>\\*x\\*\\</b\\> \\[a\\]\\(b\\) \\& c \\| d');
  });

  it('leaves model output inert: in code, or escaped', () => {
    const md = renderReportMarkdown(sampleReport());
    const outside = md.replace(/^(`{3,})text\n[\s\S]*?\n\1$/gm, '').replace(/(`+)[\s\S]*?\1/g, '');
    expect(outside).toContain('onerror');
    // Outside code, every character that could open HTML, a link or emphasis is escaped.
    expect(outside).not.toMatch(/(^|[^\\])[<[]/m);
    expect(outside).not.toMatch(/(^|[^\\])\*\*bold/m);
    expect(md).toContain(
      `\`\`\`\`text\n${HOSTILE.replace('\x1b', '\\u{1b}').replace('\u202e', '\\u{202e}')}\n\`\`\`\``,
    );
    expect(md).not.toContain('\x1b');
    expect(md).not.toContain('\u202e');
    expect(md).toContain('**Verdict:** Described, not verified');
    expect(md).toMatch(
      /\| `{4}<img src=x[^|]*`{4} \| \*\*yes\*\* \| search \| 9\.500 \| 100 % \| 0 % \| 0 % \|/,
    );
    expect(md).toContain('| 0 | q_proj | 1 | 1.50 | 0.160 | 1.00 | 1.50 |');
    const piped = renderReportMarkdown({
      ...sampleReport(),
      triggers: [{ ...sampleReport().triggers[0], trigger: 'a|b' }],
    });
    expect(piped).toContain('| `a\\|b` | **yes** |');
  });
});

describe('cache keys and file hashes', () => {
  const parts: CacheKeyParts = {
    engineVersion: '0.1.0',
    subject: { sha256: 'a'.repeat(64) },
    base: { sha256: 'b'.repeat(64) },
    interpreters: [{ sha256: 'c'.repeat(64), question: 'Q?' }],
    extraQuestions: [],
    evidencePrompts: ['hi'],
    provider: 'auto',
    precision: 'auto',
    triggerBudget: 1200,
  };

  it('changes with everything that changes what an audit says', () => {
    const key = cacheKey(parts);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...parts })).toBe(key);
    const variants: CacheKeyParts[] = [
      { ...parts, engineVersion: '0.1.1' },
      { ...parts, subject: { sha256: 'a'.repeat(64), entry: 1 } },
      { ...parts, base: { sha256: 'd'.repeat(64) } },
      { ...parts, interpreters: [{ sha256: 'c'.repeat(64), question: 'Other?' }] },
      { ...parts, extraQuestions: ['x'] },
      { ...parts, evidencePrompts: [] },
      { ...parts, maxNewTokens: 5 },
      { ...parts, provider: 'cpu' },
      { ...parts, precision: 'int4' },
    ];
    expect(new Set(variants.map(cacheKey)).size).toBe(variants.length);
    expect(variants.map(cacheKey)).not.toContain(key);
  });

  it('hashes one file as sha256sum does and several as a sorted sha256sum listing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'b.txt'), 'bee');
    writeFileSync(join(dir, 'a.txt'), 'ay');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const hasher = new FileHasher();
    expect(await hasher.hashFiles(dir, [join(dir, 'a.txt')])).toEqual({ sha256: sha('ay'), bytes: 2 });
    const both = await hasher.hashFiles(dir, [join(dir, 'b.txt'), join(dir, 'a.txt')]);
    expect(both).toEqual({ sha256: sha(`${sha('ay')}  a.txt\n${sha('bee')}  b.txt\n`), bytes: 5 });
  });

  it('memoizes by path, size and mtime across instances, and rehashes a changed file', async () => {
    const dir = tempDir();
    const file = join(dir, 'w.bin');
    const memo = join(dir, 'memo', 'hashes.json');
    writeFileSync(file, 'one');
    const first = new FileHasher(memo);
    const h1 = await first.hashFile(file);
    await first.flush();
    expect(JSON.parse(readFileSync(memo, 'utf8')).files[file].sha256).toBe(h1.sha256);
    // A forged memo entry with the file's size and mtime is trusted: proof the memo is read.
    const forged = 'f'.repeat(64);
    const stored = JSON.parse(readFileSync(memo, 'utf8'));
    stored.files[file].sha256 = forged;
    writeFileSync(memo, JSON.stringify(stored));
    let read = 0;
    expect((await new FileHasher(memo).hashFile(file, () => read++)).sha256).toBe(forged);
    expect(read).toBe(0);
    writeFileSync(file, 'two');
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    expect((await new FileHasher(memo).hashFile(file)).sha256).not.toBe(forged);
    writeFileSync(memo, 'garbage');
    expect((await new FileHasher(memo).hashFile(file)).sha256).toBe(
      createHash('sha256').update('two').digest('hex'),
    );
  });
});
