import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { NotificationInput } from '../types';
import { idempotentRoute } from './idempotency';
import type { SandboxState } from './state';
import { queryRoute } from './validation';

// Annotated with the client's type, so the sandbox and the client cannot drift apart.
export const notificationInputSchema: z.ZodType<NotificationInput> = z
  .object({
    recipient: z.enum(['supervisor', 'merchant', 'ops', 'streamer']),
    merchantId: z.string().min(1),
    streamerId: z.string().min(1).optional(),
    template: z.string().min(1),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  // A streamer is told by its own id, and only a streamer has one.
  .refine((n) => (n.recipient === 'streamer') === (n.streamerId !== undefined), { message: 'streamerId is given for a streamer notice, and only for one' });

const listQuerySchema = z.object({ merchantId: z.string().min(1).optional() }).strict();

export function notificationsRouter(state: SandboxState): Router {
  const router = Router();

  idempotentRoute(router, '/notifications', {
    store: state.idempotency,
    schema: notificationInputSchema,
    handle: (input) => {
      const accepted = { notificationId: `ntf_${randomUUID()}`, acceptedAt: new Date().toISOString() };
      state.notifications.push({ ...input, ...accepted });
      return { status: 201, body: accepted };
    },
  });

  queryRoute(router, '/notifications', listQuerySchema, ({ merchantId }) => ({ notifications: state.notifications.filter((n) => merchantId === undefined || n.merchantId === merchantId) }));

  return router;
}
