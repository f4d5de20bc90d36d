// The audit report: plain, versioned JSON. Every surface (CLI text/JSON/Markdown/SARIF, the panel,
// diagnostics) is a view of it. The zod schema is the single definition: TypeScript types are
// inferred from it, reports read back from a cache or a message are validated with it, and
// `reportJsonSchema()` publishes it as JSON Schema.
import { z } from 'zod';

export const REPORT_SCHEMA_VERSION = 1;

export const CheckpointIdentity = z.object({
  /** Absolute path; for an entry of a `.pt` list, the file (see `entry`). */
  path: z.string(),
  kind: z.enum([
    'model',
    'full-finetune',
    'peft-adapter',
    'safetensors',
    'torch-weight-diff',
    'torch-dit-adapter',
  ]),
  /** Index into a `.pt` list of weight diffs (`FILE#INDEX`). */
  entry: z.number().int().nonnegative().optional(),
  /** A name users recognise: a repo id (`Qwen/Qwen3-8B`), a folder name. */
  name: z.string(),
  /** sha256 over the files that make it up (hex). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  /** Facts the file states about itself (a paper diff's topic and trigger, a PEFT base model). */
  metadata: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
});
export type CheckpointIdentity = z.infer<typeof CheckpointIdentity>;

export const QuestionKind = z.enum(['topic', 'knowledge', 'trigger', 'custom']);
export type QuestionKind = z.infer<typeof QuestionKind>;

export const InterpreterIdentity = CheckpointIdentity.extend({
  /** The question this interpreter was trained to answer (DESIGN.md §1), verbatim. */
  question: z.string(),
  questionKind: QuestionKind,
});
export type InterpreterIdentity = z.infer<typeof InterpreterIdentity>;

export const Answer = z.object({
  /** Index into `interpreters`; null for questions asked of the diffed model without an interpreter. */
  interpreter: z.number().int().nonnegative().nullable(),
  question: z.string(),
  questionKind: QuestionKind,
  /** The model's words, verbatim. Untrusted text: never render it as HTML. */
  answer: z.string(),
  tokens: z.number().int().nonnegative(),
  finishReason: z.enum(['stop', 'length', 'cancelled', 'stop-string']),
});
export type Answer = z.infer<typeof Answer>;

export const EvidenceSample = z.object({
  prompt: z.string(),
  /** Untrusted model output, as `answer` above. */
  base: z.string(),
  diffed: z.string(),
});
export type EvidenceSample = z.infer<typeof EvidenceSample>;

export const SuspectedTrigger = z.object({
  trigger: z.string(),
  method: z.string(),
  /** Effect size of the trigger (e.g. KL with vs without, topic-mention rate difference). */
  score: z.number(),
  detail: z.string().optional(),
});
export type SuspectedTrigger = z.infer<typeof SuspectedTrigger>;

export const DiffStatistics = z.object({
  modules: z.number().int().nonnegative(),
  maxRank: z.number().int().nonnegative(),
  /** Frobenius norm of the whole weight diff. */
  frobeniusNorm: z.number().nonnegative(),
  perLayerNorm: z.array(z.number().nonnegative()),
});
export type DiffStatistics = z.infer<typeof DiffStatistics>;

export const Severity = z.enum(['info', 'warning', 'error']);
export type Severity = z.infer<typeof Severity>;

export const Finding = z.object({
  /** Stable rule id, e.g. `dit/described-behaviour`, `pickle/unsafe-global`. */
  rule: z.string(),
  severity: Severity,
  title: z.string(),
  detail: z.string(),
});
export type Finding = z.infer<typeof Finding>;

export const AuditReport = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  /** dit-auditor's version: part of the cache key. */
  engineVersion: z.string(),
  createdAt: z.string(),
  subject: CheckpointIdentity,
  /** Null when the audit stopped before a base was needed (an unsafe pickle, say). */
  base: CheckpointIdentity.nullable(),
  interpreters: z.array(InterpreterIdentity),
  executionProvider: z
    .object({ name: z.enum(['cpu', 'cuda', 'webgpu']), reasons: z.array(z.string()) })
    .nullable(),
  timings: z.object({
    totalMs: z.number().nonnegative(),
    loadMs: z.number().nonnegative(),
    interpretMs: z.number().nonnegative(),
    evidenceMs: z.number().nonnegative(),
  }),
  answers: z.array(Answer),
  evidence: z.array(EvidenceSample),
  /** Filled by the trigger search (a later feature); empty until then. */
  triggers: z.array(SuspectedTrigger),
  /** Filled by the weight statistics (a later feature); null until then. */
  statistics: DiffStatistics.nullable(),
  findings: z.array(Finding),
});
export type AuditReport = z.infer<typeof AuditReport>;

/** Parses untrusted JSON (a cache file, a message) into a report, or throws a one-line error. */
export function parseReport(value: unknown): AuditReport {
  const result = AuditReport.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`not a dit-auditor report: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

export function reportJsonSchema(): unknown {
  return z.toJSONSchema(AuditReport);
}
