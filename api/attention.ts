import { z } from 'zod';

/** What ops send to a process waiting in `needs_attention`. */
export const attentionBody = z
  .object({
    action: z.enum(['retry', 'abandon']).describe('retry: run the failed step again; abandon: what the process says (see README)'),
    note: z.string().trim().min(1).max(500).optional(),
  })
  .strict();
export type AttentionBody = z.infer<typeof attentionBody>;

export const attentionView = z
  .object({ step: z.string(), error: z.string(), since: z.string() })
  .nullable()
  .describe('set while a step that failed for good waits for ops');

export const attentionOutcome = z.object({ action: z.enum(['retry', 'abandon']), step: z.string(), status: z.string().nullable() });

interface EventLike {
  type: string;
  at: Date | string;
  details: Record<string, unknown>;
}

const isEntered = (type: string) => type === 'needs_attention' || type.startsWith('needs_attention:');
const isResolved = (type: string) => type === 'attention_resolved' || type.startsWith('attention_resolved:');

/** The wait a case's events show as still open (the last one entered and not resolved since), or null. */
export function openAttention(events: EventLike[]): z.infer<typeof attentionView> {
  let open: EventLike | null = null;
  for (const e of events) {
    if (isEntered(e.type)) open = e;
    else if (isResolved(e.type)) open = null;
  }
  if (!open) return null;
  return { step: String(open.details.step ?? ''), error: String(open.details.error ?? ''), since: new Date(open.at).toISOString() };
}
