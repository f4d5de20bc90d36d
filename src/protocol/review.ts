// Messages from the extension host to the review panel (the webview answers with the report
// panel's messages: `ready`, `showLog`, `cspViolation`). Checked on receipt like the report's.
import * as z from 'zod/mini';
import type { Review } from '../audit/review/run-review';

/** Built by the host from the review core; the webview checks the fields it switches on. */
const reviewEnvelope = z.custom<Review>(
  (v) => typeof v === 'object' && v !== null && Array.isArray((v as { checkpoints?: unknown }).checkpoints),
);

export const reviewStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('running'),
    title: z.string(),
    message: z.string(),
    fraction: z.number().check(z.gte(0), z.lte(1)),
  }),
  z.strictObject({ kind: z.literal('done'), title: z.string(), review: reviewEnvelope }),
  z.strictObject({ kind: z.literal('error'), title: z.string(), message: z.string() }),
]);
export type ReviewState = z.infer<typeof reviewStateSchema>;

export const reviewMessageSchema = z.strictObject({ type: z.literal('review'), state: reviewStateSchema });
export type ReviewMessage = z.infer<typeof reviewMessageSchema>;

export function isReviewMessage(value: unknown): value is ReviewMessage {
  return reviewMessageSchema.safeParse(value).success;
}
