// Messages between the extension host and the report panel's webview, imported by both sides. Each
// side checks what it receives with these schemas: a webview is another process, and its messages
// are input. zod/mini keeps the webview's bundle small.
import * as z from 'zod/mini';
import { AUDIT_STAGES } from '../audit/progress';
import type { AuditReport } from '../audit/report';

const MAX_TEXT = 4096;
const index = z.int().check(z.nonnegative());

/** What an audit is about: a checkpoint reference (`CheckpointRef`'s shape) with a label for titles. */
export const auditTargetSchema = z.strictObject({
  path: z.string().check(z.minLength(1)),
  /** For a `.pt` list of weight diffs, the entry. */
  entry: z.optional(index),
  /** Short name for titles: the file or folder name, with `#entry`. */
  label: z.string(),
});
export type AuditTarget = z.infer<typeof auditTargetSchema>;

/**
 * The report inside a state was validated against the report schema by the extension host before
 * it was sent; the webview checks only the fields it switches on (the full schema is not bundled).
 */
const reportEnvelope = z.custom<AuditReport>(
  (v) => isRecord(v) && Array.isArray(v.answers) && isRecord(v.subject) && isRecord(v.verdict),
);

export const panelStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('running'),
    target: auditTargetSchema,
    stage: z.enum(AUDIT_STAGES),
    message: z.string(),
    fraction: z.number().check(z.gte(0), z.lte(1)),
  }),
  z.strictObject({
    kind: z.literal('report'),
    target: auditTargetSchema,
    report: reportEnvelope,
    fromCache: z.boolean(),
  }),
  z.strictObject({ kind: z.literal('error'), target: auditTargetSchema, message: z.string() }),
  z.strictObject({ kind: z.literal('cancelled'), target: auditTargetSchema }),
  z.strictObject({ kind: z.literal('untrusted'), target: auditTargetSchema, message: z.string() }),
]);
export type PanelState = z.infer<typeof panelStateSchema>;

/** Extension host → webview. */
export const hostMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('state'), state: panelStateSchema }),
  z.strictObject({ type: z.literal('notice'), text: z.string() }),
]);
export type HostMessage = z.infer<typeof hostMessageSchema>;

/** The webview's buttons that carry nothing but their name. */
export const PANEL_ACTIONS = [
  'ready',
  'rerun',
  'cancel',
  'copyMarkdown',
  'exportJson',
  'showLog',
  'manageTrust',
  'installCudaProvider',
] as const;

/** Webview → extension host: exactly these shapes, nothing extra, bounded strings. */
export const webviewMessageSchema = z.union([
  z.strictObject({ type: z.enum(PANEL_ACTIONS) }),
  z
    .strictObject({
      type: z.literal('reveal'),
      which: z.enum(['subject', 'base', 'interpreter']),
      index: z.optional(index),
    })
    // Which interpreter is named by its index; the subject and the base are one each.
    .check(z.refine((m) => (m.which === 'interpreter') === (m.index !== undefined))),
  z.strictObject({ type: z.literal('openDiff'), index }),
  z.strictObject({
    type: z.literal('cspViolation'),
    directive: z.string().check(z.maxLength(MAX_TEXT)),
    blocked: z.string().check(z.maxLength(MAX_TEXT)),
  }),
]);
export type WebviewMessage = z.infer<typeof webviewMessageSchema>;
export type RevealWhich = Extract<WebviewMessage, { type: 'reveal' }>['which'];

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  return webviewMessageSchema.safeParse(value).success;
}

export function isHostMessage(value: unknown): value is HostMessage {
  return hostMessageSchema.safeParse(value).success;
}

export function isPanelState(value: unknown): value is PanelState {
  return panelStateSchema.safeParse(value).success;
}

export function isAuditTarget(value: unknown): value is AuditTarget {
  return auditTargetSchema.safeParse(value).success;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
