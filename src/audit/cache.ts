// Reports cached by content: the key hashes everything that decides what an audit says, so a
// changed file, question or setting is a miss and re-opening an audited checkpoint is instant.
// Beside the reports, an index by subject (its content hash) answers "what do we know about this
// checkpoint?" for an editor that sees only a path: no base, question or setting needed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write';
import { FileHasher, sha256Hex } from './hashing';
import { type AuditReport, parseReport, REPORT_SCHEMA_VERSION } from './report';

const SubjectIndex = z.object({
  version: z.literal(1),
  reports: z.array(
    z.object({ key: z.string(), entry: z.number().int().nonnegative().nullable(), createdAt: z.string() }),
  ),
});
type SubjectIndex = z.infer<typeof SubjectIndex>;
/** Reports remembered per subject (different bases, settings, entries); the oldest are dropped. */
const MAX_REPORTS_PER_SUBJECT = 32;

export interface CacheKeyParts {
  readonly engineVersion: string;
  readonly subject: { readonly sha256: string; readonly entry?: number };
  readonly base: { readonly sha256: string };
  readonly interpreters: readonly { readonly sha256: string; readonly question: string }[];
  readonly extraQuestions: readonly string[];
  readonly evidencePrompts: readonly string[];
  readonly maxNewTokens?: number;
  readonly provider: string;
  /** The weight precision asked for (`remote`: the server's own). */
  readonly precision: string;
  /** The trigger search's budget (0: no search). */
  readonly triggerBudget: number;
}

export function cacheKey(parts: CacheKeyParts): string {
  return sha256Hex(
    JSON.stringify([
      REPORT_SCHEMA_VERSION,
      parts.engineVersion,
      parts.subject.sha256,
      parts.subject.entry ?? null,
      parts.base.sha256,
      parts.interpreters.map((i) => [i.sha256, i.question]),
      parts.extraQuestions,
      parts.evidencePrompts,
      parts.maxNewTokens ?? null,
      parts.provider,
      parts.precision,
      parts.triggerBudget,
    ]),
  );
}

export class ReportCache {
  /** File hashes, memoized beside the reports so a large base is hashed once across runs. */
  readonly hasher: FileHasher;

  constructor(readonly dir: string) {
    this.hasher = new FileHasher(join(dir, 'file-hashes.json'));
  }

  /** The cached report, or undefined: a missing, unreadable or invalid entry is a miss. */
  async get(key: string): Promise<AuditReport | undefined> {
    try {
      return parseReport(JSON.parse(await readFile(this.pathOf(key), 'utf8')));
    } catch {
      return undefined;
    }
  }

  async put(key: string, report: AuditReport): Promise<void> {
    await writeFileAtomic(this.pathOf(key), `${JSON.stringify(report, null, 2)}\n`);
    await this.index(key, report);
  }

  /**
   * The newest report about the checkpoint whose content hash is `sha256`: of entry `entry` of a
   * `.pt` list, or (undefined) of any entry. Reports whose file is gone or invalid are skipped.
   */
  async latestFor(sha256: string, entry?: number): Promise<AuditReport | undefined> {
    const index = await this.readIndex(sha256);
    const candidates = index.reports
      .filter((r) => entry === undefined || r.entry === entry)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    for (const candidate of candidates) {
      const report = await this.get(candidate.key);
      if (report && report.subject.sha256 === sha256) return report;
    }
    return undefined;
  }

  private async index(key: string, report: AuditReport): Promise<void> {
    const { sha256, entry } = report.subject;
    const index = await this.readIndex(sha256);
    const reports = [
      { key, entry: entry ?? null, createdAt: report.createdAt },
      ...index.reports.filter((r) => r.key !== key),
    ].slice(0, MAX_REPORTS_PER_SUBJECT);
    await writeFileAtomic(
      this.indexPathOf(sha256),
      JSON.stringify({ version: 1, reports } satisfies SubjectIndex),
    );
  }

  /** A missing or unreadable index is an empty one: the checkpoint shows as not audited. */
  private async readIndex(sha256: string): Promise<SubjectIndex> {
    try {
      const parsed = SubjectIndex.safeParse(JSON.parse(await readFile(this.indexPathOf(sha256), 'utf8')));
      if (parsed.success) return parsed.data;
    } catch {}
    return { version: 1, reports: [] };
  }

  private indexPathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a content hash: ${sha256}`);
    return join(this.dir, 'by-subject', `${sha256}.json`);
  }

  pathOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a cache key: ${key}`);
    return join(this.dir, 'reports', `${key}.json`);
  }
}
