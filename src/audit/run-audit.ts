// An audit from start to report: identify the subject (an unsafe pickle stops here), resolve its
// base and interpreters, hash them, answer from the cache when it can, else run the models and
// conclude. Cancellation is checked between steps and stores nothing.
import { formatCheckpointRef } from '../engine/checkpoint/reference';
import { assembleReport, unsafeReport } from './assemble-report';
import { cacheKeyOf, resolveAuditParts } from './audit-parts';
import { throwIfCancelled } from './errors';
import { FileHasher } from './hashing';
import { openLocalModels } from './local-models';
import { exclusive } from './lock';
import { ProgressTracker } from './progress';
import { openRemoteModels } from './remote/remote-models';
import type { AuditReport } from './report';
import { type AuditContext, type AuditRequest, checkRequest } from './request';
import { runModels } from './run-models';
import { identifySubject } from './subject';

export async function runAudit(request: AuditRequest, context: AuditContext): Promise<AuditReport> {
  checkRequest(request);
  const started = performance.now();
  const { signal } = context;
  const progress = new ProgressTracker(context.onProgress);
  const hasher = context.cache?.hasher ?? new FileHasher();
  const createdAt = () => (context.now ?? (() => new Date()))().toISOString();

  const named = formatCheckpointRef(request.subject);
  const hashSubject = progress.span('hash', 0, 0.05);
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

  const parts = await resolveAuditParts(request, context, subject, hasher, progress);
  const key = cacheKeyOf(parts, context.remote);
  const cached = request.refresh ? undefined : await context.cache?.get(key);
  if (cached) {
    progress.report('done', 'Report from the cache', 1, true);
    // The same content may lie elsewhere now (a copy, a moved folder): name the files audited today.
    return {
      ...cached,
      subject: parts.identity,
      base: parts.base,
      interpreters: [...parts.plan.interpreters],
    };
  }

  const { remote, engine } = context;
  const { plan } = parts;
  const run = remote
    ? await runModels(() => openRemoteModels(remote, engine, plan, signal), plan, progress, signal)
    : await exclusive(engine, signal, () =>
        runModels(() => openLocalModels(engine, plan, signal), plan, progress, signal),
      );
  throwIfCancelled(signal);
  const report = assembleReport(
    parts,
    run,
    createdAt(),
    // The user's time in the resolver's dialogs is no part of the audit's.
    performance.now() - started - parts.waitedMs,
  );
  await context.cache?.put(key, report);
  progress.report('done', 'Audit complete', 1);
  return report;
}
