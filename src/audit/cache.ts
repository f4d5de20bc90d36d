// Reports cached by content: the key hashes everything that decides what an audit says, so a
// changed file, question or setting is a miss and re-opening an audited checkpoint is instant.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write';
import { FileHasher, sha256Hex } from './hashing';
import { type AuditReport, parseReport, REPORT_SCHEMA_VERSION } from './report';

export interface CacheKeyParts {
  readonly engineVersion: string;
  readonly subject: { readonly sha256: string; readonly entry?: number };
  readonly base: { readonly sha256: string };
  readonly interpreters: readonly { readonly sha256: string; readonly question: string }[];
  readonly extraQuestions: readonly string[];
  readonly evidencePrompts: readonly string[];
  readonly maxNewTokens?: number;
  readonly provider: string;
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
  }

  pathOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a cache key: ${key}`);
    return join(this.dir, 'reports', `${key}.json`);
  }
}
