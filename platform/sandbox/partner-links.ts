import { Router } from 'express';
import { z } from 'zod';
import { LINK_KINDS, LINK_PARTNERS } from '../../domain/link-windows';
import type { PartnerLinksChange, PartnerLinksLive } from '../types';
import { idempotentRoute, routeParam } from './idempotency';
import { shopForUpdate, type SandboxShop, type SandboxState } from './state';

/** One call's limit, as for products: a larger set goes in several calls, each with its own key. */
export const MAX_LINKS_PER_CHANGE = 200;

// Annotated with the client's type, so the sandbox and the client cannot drift apart.
export const partnerLinksChangeSchema: z.ZodType<PartnerLinksChange> = z
  .object({
    action: z.enum(['publish', 'take_down']),
    partner: z.enum(LINK_PARTNERS),
    storeId: z.string().min(1).max(100),
    linkKind: z.enum(LINK_KINDS),
    linkIds: z.array(z.string().min(1).max(100)).min(1).max(MAX_LINKS_PER_CHANGE),
    reason: z.string().min(1),
  })
  .strict();

/**
 * Outside product links on a shop (link windows). The live links form a set, as restrictions
 * do: publishing a live link or taking down one that is down changes nothing. Every call that
 * is carried out is recorded with the links it actually changed, so a test can count how often
 * each link went live or came down.
 */
export function partnerLinksRouter(state: SandboxState): Router {
  const router = Router();
  idempotentRoute(router, '/shops/:shopId/partner-links', {
    store: state.idempotency,
    schema: partnerLinksChangeSchema,
    handle: (change, req) => {
      const shop = shopForUpdate(state, routeParam(req, 'shopId'));
      const changed: string[] = [];
      for (const linkId of change.linkIds) {
        const live = shop.partnerLinks.has(linkId);
        if (change.action === 'publish' && !live) {
          shop.partnerLinks.add(linkId);
          changed.push(linkId);
        } else if (change.action === 'take_down' && live) {
          shop.partnerLinks.delete(linkId);
          changed.push(linkId);
        }
      }
      shop.partnerLinkChanges.push({ ...change, changed, at: new Date().toISOString() });
      const body: PartnerLinksLive = { live: liveLinks(shop) };
      return { status: 200, body };
    },
  });
  return router;
}

/** Sorted, so answers do not depend on the order of earlier calls. */
export function liveLinks(shop: SandboxShop): string[] {
  return [...shop.partnerLinks].sort();
}
