// An audit from start to report: identify the subject (an unsafe pickle stops here), resolve its
// base and interpreters, hash them, answer from the cache when it can, else run the models and
// conclude. Cancellation is checked between steps and stores nothing.
import { basename } from 'node:path';
import { requireModelFolder } from '../engine/checkpoint/classify';
import { formatCheckpointRef } from '../engine/checkpoint/reference';
import { cacheKey } from './cache';
import { samePath } from './demo-manifest';
import { throwIfCancelled } from './errors';
import {
  describedBehaviour,
  evidenceChanged,
  hiddenBehaviour,
  noTriggerVerified,
  subjectIsBase,
  unsafePickleFinding,
} from './findings';
import { FileHasher } from './hashing';
import { identifyInterpreter, identifyModel } from './identities';
import { exclusive } from './lock';
import { ProgressTracker } from './progress';
import { DEFAULT_EVIDENCE_PROMPTS } from './questions';
import type { AuditReport, CheckpointIdentity, InterpreterIdentity } from './report';
import { REPORT_SCHEMA_VERSION } from './report';
import { type AuditContext, type AuditRequest, checkRequest } from './request';
import { runModels } from './run-models';
import { identifySubject, type Subject } from './subject';
import { DEFAULT_SEARCH } from './triggers/search';
import { verdictOf } from './verdict';
import { ENGINE_VERSION } from './version';

export async function runAudit(request: AuditRequest, context: AuditContext): Promise<AuditReport> {
  checkRequest(request);
  const started = performance.now();
  const { signal } = context;
  const progress = new ProgressTracker(context.onProgress);
  const hasher = context.cache?.hasher ?? new FileHasher();
  const createdAt = () => (context.now ?? (() => new Date()))().toISOString();

  const hashSubject = progress.span('hash', 0, 0.05);
  const named = formatCheckpointRef(request.subject);
  hashSubject(`Reading ${named}`, 0);
  const subject = await identifySubject(request.subject, hasher, (done, total) =>
    hashSubject(`Hashing ${named}`, done / total),
  );
  throwIfCancelled(signal);
  if (subject.unsafeGlobals) {
    const report = unsafeReport(subject, createdAt(), performance.now() - started);
    progress.report('done', 'Unsafe pickle: nothing was loaded', 1);
    return report;
  }

  progress.report('resolve', 'Finding the base model and interpreters', 0.05);
  const base = request.base
    ? {
        name: (await context.resolver.baseNameOf(request.subject)) ?? basename(request.base),
        dir: request.base,
      }
    : await context.resolver.resolveBaseOf(request.subject);
  requireModelFolder(base.dir, `base ${base.dir}`);
  throwIfCancelled(signal);
  const specs =
    request.interpreters ??
    (await context.resolver.resolveInterpreters(base.name, base.dir, request.subject));
  throwIfCancelled(signal);

  const hashOthers = progress.span('hash', 0.07, 0.2);
  hashOthers(`Hashing base model ${base.name}`, 0);
  const baseIdentity = await identifyModel(base.dir, base.name, hasher, (done, total) =>
    hashOthers(`Hashing base model ${base.name}`, (0.9 * done) / total),
  );
  const interpreters: InterpreterIdentity[] = [];
  for (const spec of specs) {
    throwIfCancelled(signal);
    hashOthers(`Hashing interpreter ${spec.path}`, 0.9);
    interpreters.push(await identifyInterpreter(spec, hasher));
  }
  await hasher.flush();
  throwIfCancelled(signal);

  const isBase = subject.modelDir !== undefined && samePath(subject.modelDir, baseIdentity.path);
  const extraQuestions = request.extraQuestions ?? [];
  const evidencePrompts = isBase ? [] : (request.evidencePrompts ?? DEFAULT_EVIDENCE_PROMPTS);
  const provider = request.provider ?? 'auto';
  const budget = request.triggerBudget ?? DEFAULT_SEARCH.budget;
  const search = isBase || budget === 0 ? null : { ...DEFAULT_SEARCH, budget };
  const key = cacheKey({
    engineVersion: ENGINE_VERSION,
    subject: subject.identity,
    base: baseIdentity,
    interpreters,
    extraQuestions,
    evidencePrompts,
    maxNewTokens: request.maxNewTokens,
    provider,
    triggerBudget: search?.budget ?? 0,
  });
  const identity: CheckpointIdentity = isBase ? { ...subject.identity, kind: 'model' } : subject.identity;
  const cached = request.refresh ? undefined : await context.cache?.get(key);
  if (cached) {
    progress.report('done', 'Report from the cache', 1, true);
    // The same content may lie elsewhere now (a copy, a moved folder): name the files audited today.
    return { ...cached, subject: identity, base: baseIdentity, interpreters };
  }

  const run = await exclusive(context.engine, signal, () =>
    runModels(
      context.engine,
      {
        modelDir: subject.modelDir ?? baseIdentity.path,
        baseDir: baseIdentity.path,
        diff: subject.adapter ? [subject.adapter] : [],
        hasDiff: !isBase,
        search,
        interpreters,
        extraQuestions,
        evidencePrompts,
        maxNewTokens: request.maxNewTokens,
        provider,
      },
      progress,
      signal,
    ),
  );
  throwIfCancelled(signal);

  const verified = run.triggers.filter((t) => t.verified);
  const keywords = run.triggerSearch?.keywords ?? [];
  const findings = [
    ...(isBase ? [subjectIsBase(identity.path)] : []),
    ...verified.map((t) => hiddenBehaviour(t, keywords)),
    ...describedBehaviour(interpreters, run.answers, verified.length > 0),
    ...(run.triggerSearch && verified.length === 0
      ? [noTriggerVerified(run.triggerSearch, run.triggers.length)]
      : []),
    ...evidenceChanged(run.evidence),
  ];
  const report: AuditReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    engineVersion: ENGINE_VERSION,
    createdAt: createdAt(),
    subject: identity,
    base: baseIdentity,
    interpreters,
    executionProvider: run.executionProvider,
    timings: {
      totalMs: ms(performance.now() - started),
      loadMs: ms(run.loadMs),
      interpretMs: ms(run.interpretMs),
      evidenceMs: ms(run.evidenceMs),
      triggerMs: ms(run.triggerMs),
    },
    answers: run.answers,
    evidence: run.evidence,
    triggers: run.triggers,
    triggerSearch: run.triggerSearch,
    statistics: run.statistics,
    findings,
    verdict: verdictOf({
      findings,
      answers: run.answers,
      triggers: run.triggers,
      triggerSearch: run.triggerSearch,
      ran: true,
      hasDiff: !isBase,
    }),
  };
  await context.cache?.put(key, report);
  progress.report('done', 'Audit complete', 1);
  return report;
}

function unsafeReport(subject: Subject, createdAt: string, totalMs: number): AuditReport {
  const findings = [unsafePickleFinding(subject.identity.path, subject.unsafeGlobals ?? [])];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    engineVersion: ENGINE_VERSION,
    createdAt,
    subject: { ...subject.identity, metadata: { ...subject.identity.metadata } },
    base: null,
    interpreters: [],
    executionProvider: null,
    timings: { totalMs: ms(totalMs), loadMs: 0, interpretMs: 0, evidenceMs: 0, triggerMs: 0 },
    answers: [],
    evidence: [],
    triggers: [],
    triggerSearch: null,
    statistics: null,
    findings,
    verdict: verdictOf({
      findings,
      answers: [],
      triggers: [],
      triggerSearch: null,
      ran: false,
      hasDiff: true,
    }),
  };
}

function ms(value: number): number {
  return Math.round(value * 10) / 10;
}
