// The audit core every surface shares (CLI, extension): run an audit, resolve what it needs,
// cache reports, render them. Nothing here imports vscode.
export { type CacheKeyParts, cacheKey, ReportCache } from './cache';
export { AuditCancelledError } from './errors';
export { FileHasher } from './hashing';
export { defaultHfCacheDirs } from './hf-cache';
export type { InterpreterSpec } from './identities';
export type { AuditProgress, AuditStage } from './progress';
export {
  DEFAULT_EVIDENCE_PROMPTS,
  KNOWLEDGE_QUESTION,
  maxNewTokensFor,
  questionKindOf,
  TOPIC_QUESTION,
  TRIGGER_QUESTION,
} from './questions';
export { renderReportMarkdown } from './render-markdown';
export { renderReportText } from './render-text';
export * from './report';
export type { AuditContext, AuditRequest } from './request';
export {
  ModelResolver,
  type ModelResolverOptions,
  type ResolvedBase,
  type ResolverQuestion,
} from './resolver';
export { runAudit } from './run-audit';
export { ENGINE_VERSION } from './version';
