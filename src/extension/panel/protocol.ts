// Messages between the extension host and the report panel's webview. Both sides check what they
// receive with these guards: a webview is another process, and its messages are input.
import { AUDIT_STAGES, type AuditStage } from '../../audit/progress';
import type { AuditReport } from '../../audit/report';

/** What an audit is about: a checkpoint path, and for a `.pt` list of diffs the entry. */
export interface AuditTarget {
  readonly path: string;
  readonly entry?: number;
  /** Short name for titles: the file or folder name, with `#entry`. */
  readonly label: string;
}

export type { AuditStage };

export type PanelState =
  | {
      readonly kind: 'running';
      readonly target: AuditTarget;
      readonly stage: AuditStage;
      readonly message: string;
      /** 0..1 */
      readonly fraction: number;
    }
  | {
      readonly kind: 'report';
      readonly target: AuditTarget;
      readonly report: AuditReport;
      readonly fromCache: boolean;
    }
  | { readonly kind: 'error'; readonly target: AuditTarget; readonly message: string }
  | { readonly kind: 'cancelled'; readonly target: AuditTarget }
  | { readonly kind: 'untrusted'; readonly target: AuditTarget; readonly message: string };

/** Extension host → webview. */
export type HostMessage =
  | { readonly type: 'state'; readonly state: PanelState }
  | { readonly type: 'notice'; readonly text: string };

export type RevealWhich = 'subject' | 'base' | 'interpreter';

/** Webview → extension host. */
export type WebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'rerun' }
  | { readonly type: 'cancel' }
  | { readonly type: 'copyMarkdown' }
  | { readonly type: 'exportJson' }
  | { readonly type: 'showLog' }
  | { readonly type: 'manageTrust' }
  | { readonly type: 'reveal'; readonly which: RevealWhich; readonly index?: number }
  | { readonly type: 'cspViolation'; readonly directive: string; readonly blocked: string };

const STAGES: readonly string[] = AUDIT_STAGES;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOnlyKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(value).every((k) => keys.includes(k));
}

const MAX_TEXT = 4096;
const isShortString = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function isAuditTarget(value: unknown): value is AuditTarget {
  return (
    isRecord(value) &&
    hasOnlyKeys(value, ['path', 'entry', 'label']) &&
    typeof value.path === 'string' &&
    value.path.length > 0 &&
    typeof value.label === 'string' &&
    (value.entry === undefined || isIndex(value.entry))
  );
}

/** Strict: exactly the shapes above, nothing extra, bounded strings. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (!isRecord(value) || typeof value.type !== 'string') return false;
  switch (value.type) {
    case 'ready':
    case 'rerun':
    case 'cancel':
    case 'copyMarkdown':
    case 'exportJson':
    case 'showLog':
    case 'manageTrust':
      return hasOnlyKeys(value, ['type']);
    case 'reveal':
      return (
        hasOnlyKeys(value, ['type', 'which', 'index']) &&
        (value.which === 'subject' || value.which === 'base' || value.which === 'interpreter') &&
        (value.which === 'interpreter' ? isIndex(value.index) : value.index === undefined)
      );
    case 'cspViolation':
      return (
        hasOnlyKeys(value, ['type', 'directive', 'blocked']) &&
        isShortString(value.directive) &&
        isShortString(value.blocked)
      );
    default:
      return false;
  }
}

/**
 * Structural check on the webview side. The report inside was validated against the schema by the
 * extension host before it was sent; here only the envelope and the fields the view switches on.
 */
export function isPanelState(value: unknown): value is PanelState {
  if (!isRecord(value) || !isAuditTarget(value.target)) return false;
  switch (value.kind) {
    case 'running':
      return (
        typeof value.stage === 'string' &&
        STAGES.includes(value.stage) &&
        typeof value.message === 'string' &&
        typeof value.fraction === 'number' &&
        value.fraction >= 0 &&
        value.fraction <= 1
      );
    case 'report':
      return (
        isRecord(value.report) &&
        Array.isArray(value.report.answers) &&
        isRecord(value.report.subject) &&
        typeof value.fromCache === 'boolean'
      );
    case 'error':
    case 'untrusted':
      return typeof value.message === 'string';
    case 'cancelled':
      return true;
    default:
      return false;
  }
}

export function isHostMessage(value: unknown): value is HostMessage {
  if (!isRecord(value)) return false;
  if (value.type === 'state') return isPanelState(value.state);
  if (value.type === 'notice') return typeof value.text === 'string';
  return false;
}

/** The subject string the audit core takes: a path, or `FILE#INDEX` for an entry of a `.pt` list. */
export function subjectOf(target: AuditTarget): string {
  return target.entry === undefined ? target.path : `${target.path}#${target.entry}`;
}
