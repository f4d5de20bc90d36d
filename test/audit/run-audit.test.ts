// runAudit in process: the report it produces, the cache (hits, invalidation, corruption),
// cancellation, and an unsafe pickle that stops everything before a model is touched.
import { cpSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditCancelledError,
  type AuditContext,
  type AuditProgress,
  type AuditReport,
  ModelResolver,
  parseReport,
  REPORT_SCHEMA_VERSION,
  ReportCache,
  runAudit,
} from '../../src/audit';
import { parseCheckpointRef } from '../../src/engine/checkpoint/reference';
import { Engine } from '../../src/engine/runtime/engine';
import { rewriteSafetensors, tempDir } from '../engine/helpers';
import { TORCH_PICKLE } from '../engine/paths';
import { makeTinyWorld, type TinyWorld } from './helpers';

const resolver = new ModelResolver({ hfCacheDirs: [], demoManifests: [] });
const FIXED_DATE = new Date('2025-01-02T03:04:05.000Z');

describe('runAudit', () => {
  let engine: Engine;
  let world: TinyWorld;
  beforeAll(() => {
    engine = new Engine();
    world = makeTinyWorld();
  });
  afterAll(() => engine.terminate());

  const context = (extra: Partial<AuditContext> = {}): AuditContext => ({
    engine,
    resolver,
    now: () => FIXED_DATE,
    ...extra,
  });
  const request = () => ({
    subject: parseCheckpointRef(world.diff),
    interpreters: [
      { path: world.interpreter, question: 'Is this model safe?', questionKind: 'custom' as const },
    ],
    maxNewTokens: 4,
  });

  it('produces a report that round-trips through parseReport, with monotone progress ending at done', async () => {
    const events: AuditProgress[] = [];
    const report = await runAudit(request(), context({ onProgress: (p) => events.push(p) }));
    expect(parseReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.createdAt).toBe(FIXED_DATE.toISOString());
    // The interpreter's own question, then the paper's trigger question (the search's baseline).
    expect(report.answers.map((a) => [a.questionKind, a.tokens])).toEqual([
      ['custom', 4],
      ['trigger', 4],
    ]);
    expect(report.triggerSearch?.candidatesScored).toBeGreaterThan(0);
    expect(report.statistics?.cells.length).toBeGreaterThan(0);
    expect(report.evidence.every((e) => e.base.split(' ').length <= 4)).toBe(true);
    const fractions = events.map((e) => e.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(events.at(-1)).toEqual({ stage: 'done', message: 'Audit complete', fraction: 1 });
    expect(new Set(events.map((e) => e.stage))).toEqual(
      new Set(['hash', 'resolve', 'load', 'interpret', 'evidence', 'triggers', 'done']),
    );
  });

  it("leaves the user's time in a resolver dialog out of the timings", async () => {
    const asking = new ModelResolver({
      hfCacheDirs: [],
      demoManifests: [],
      ask: () => new Promise((done) => setTimeout(() => done(world.interpreter), 1500)),
    });
    const { interpreters: _none, ...asked } = request();
    const started = performance.now();
    const report = await runAudit({ ...asked, triggerBudget: 0 }, context({ resolver: asking }));
    const wall = performance.now() - started;
    expect(asking.waitedMs).toBeGreaterThanOrEqual(1400);
    expect(report.timings.totalMs).toBeLessThan(wall - 1400);
  });

  it('refuses a malformed request before reading anything', async () => {
    await expect(runAudit({ ...request(), maxNewTokens: 0 }, context())).rejects.toThrow(
      /^bad audit request: maxNewTokens must be a whole number of at least 1 \(got 0\)$/,
    );
    await expect(runAudit({ ...request(), interpreters: [] }, context())).rejects.toThrow(
      /interpreter list is empty/,
    );
  });

  describe('with a report cache', () => {
    let cache: ReportCache;
    let first: AuditReport;
    const reportsIn = () => readdirSync(join(cache.dir, 'reports')).filter((f) => f.endsWith('.json'));
    beforeAll(async () => {
      cache = new ReportCache(tempDir());
      first = await runAudit(request(), context({ cache }));
    });

    it('answers the same audit from the cache, saying so, without touching the engine', async () => {
      const events: AuditProgress[] = [];
      const again = await runAudit(request(), {
        ...context({ cache }),
        engine: untouchable(),
        onProgress: (p) => events.push(p),
      });
      expect(again).toEqual(first);
      expect(events.at(-1)).toMatchObject({ stage: 'done', cached: true, fraction: 1 });
      expect(reportsIn()).toHaveLength(1);
    });

    it('keeps file hashes in the cache folder, so a touched but unchanged file is still a hit', async () => {
      const memo = JSON.parse(readFileSync(join(cache.dir, 'file-hashes.json'), 'utf8'));
      expect(Object.keys(memo.files)).toContain(join(world.base, 'model-00001-of-00002.safetensors'));
      utimesSync(join(world.diff, 'adapter_config.json'), new Date(), new Date(Date.now() + 5000));
      const again = await runAudit(request(), { ...context({ cache }), engine: untouchable() });
      expect(again).toEqual(first);
    });

    it('names the files audited today when the same content was cached from elsewhere', async () => {
      const copy = join(tempDir(), 'moved-diff');
      cpSync(world.diff, copy, { recursive: true });
      const moved = await runAudit(
        { ...request(), subject: parseCheckpointRef(copy), base: world.base },
        { ...context({ cache }), engine: untouchable() },
      );
      expect(moved.subject).toEqual({ ...first.subject, path: copy, name: 'moved-diff' });
      expect(moved.answers).toEqual(first.answers);
    });

    it('audits again when a question or a setting changes', async () => {
      const other = await runAudit({ ...request(), maxNewTokens: 3 }, context({ cache }));
      expect(other.answers[0].tokens).toBe(3);
      expect(reportsIn()).toHaveLength(2);
    });

    it('audits again when a file of the diff changes', async () => {
      const weights = join(world.diff, 'adapter_model.safetensors');
      rewriteSafetensors(weights, weights, (h) => ({ ...h, __metadata__: { note: 'changed' } }));
      const changed = await runAudit(request(), context({ cache }));
      expect(changed.subject.sha256).not.toBe(first.subject.sha256);
      expect(changed.answers).toEqual(first.answers);
      expect(reportsIn()).toHaveLength(3);
    });

    it('treats a corrupt or invalid entry as a miss and replaces it', async () => {
      const fresh = new ReportCache(tempDir());
      const current = await runAudit(request(), context({ cache: fresh }));
      const [name] = readdirSync(join(fresh.dir, 'reports'));
      const file = join(fresh.dir, 'reports', name);
      const key = name.replace(/\.json$/, '');
      writeFileSync(file, '{"schemaVersion": 1, "subject": ');
      expect(await fresh.get(key)).toBeUndefined();
      const events: AuditProgress[] = [];
      const redone = await runAudit(request(), context({ cache: fresh, onProgress: (p) => events.push(p) }));
      expect(events.some((e) => e.stage === 'load')).toBe(true);
      expect(redone.answers).toEqual(current.answers);
      expect(await fresh.get(key)).toEqual(redone);
      writeFileSync(file, JSON.stringify({ ...redone, schemaVersion: REPORT_SCHEMA_VERSION + 1 }));
      expect(await fresh.get(key)).toBeUndefined();
    });
  });

  it('runs concurrent audits on one engine one after the other, each with its own adapters', async () => {
    const ofBase = { ...request(), subject: parseCheckpointRef(world.base), base: world.base };
    const [alone, aloneBase] = [await runAudit(request(), context()), await runAudit(ofBase, context())];
    const [together, togetherBase] = await Promise.all([
      runAudit(request(), context()),
      runAudit(ofBase, context()),
    ]);
    expect(alone.answers[0].answer).not.toBe(aloneBase.answers[0].answer);
    expect(together.answers).toEqual(alone.answers);
    expect(togetherBase.answers).toEqual(aloneBase.answers);
    expect(together.evidence).toEqual(alone.evidence);
  });

  it('stops within the trigger search when cancelled there, caching nothing', async () => {
    const cache = new ReportCache(tempDir());
    const abort = new AbortController();
    const stages: string[] = [];
    const run = runAudit(
      request(),
      context({
        cache,
        signal: abort.signal,
        onProgress: (p) => {
          stages.push(p.stage);
          if (p.stage === 'triggers' && p.message.startsWith('Scored')) abort.abort();
        },
      }),
    );
    await expect(run).rejects.toBeInstanceOf(AuditCancelledError);
    expect(stages).toContain('triggers');
    expect(stages).not.toContain('done');
    expect(readdirSync(cache.dir).filter((f) => f === 'reports')).toEqual([]);
  });

  it('stops at the next step when cancelled, throwing AuditCancelledError and caching nothing', async () => {
    const cache = new ReportCache(tempDir());
    const abort = new AbortController();
    const stages: string[] = [];
    const run = runAudit(
      { ...request(), maxNewTokens: 20 },
      context({
        cache,
        signal: abort.signal,
        onProgress: (p) => {
          stages.push(p.stage);
          if (p.stage === 'interpret') abort.abort();
        },
      }),
    );
    await expect(run).rejects.toBeInstanceOf(AuditCancelledError);
    expect(stages).not.toContain('evidence');
    expect(stages).not.toContain('done');
    expect(readdirSync(cache.dir).filter((f) => f === 'reports')).toEqual([]);
    // The engine is still usable afterwards.
    const after = await runAudit(request(), context());
    expect(after.answers).toHaveLength(2);
  });

  it('reports an unsafe pickle as an error finding, loading and running nothing', async () => {
    const file = join(TORCH_PICKLE, 'evil-eval.pt');
    const report = await runAudit(
      { subject: parseCheckpointRef(file) },
      { ...context(), engine: untouchable(), resolver: untouchable() },
    );
    expect(parseReport(report)).toEqual(report);
    expect(report.base).toBeNull();
    expect(report.executionProvider).toBeNull();
    expect(report.answers).toEqual([]);
    expect(report.subject).toMatchObject({ path: file, kind: 'torch-weight-diff' });
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ rule: 'pickle/unsafe-global', severity: 'error' });
    expect(report.findings[0].detail).toMatch(/__builtin__\.eval/);
  });
});

/** Stands in for the engine or resolver where none may be used: any use fails the test. */
function untouchable<T>(): T {
  return new Proxy(
    {},
    {
      get(_t, property) {
        throw new Error(`touched ${String(property)}`);
      },
    },
  ) as T;
}
