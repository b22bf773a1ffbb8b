import { Router } from 'express';
import { z } from 'zod';
import type { JdUnionAuthorisation } from '../../partners/types';
import { partnerStoreKey, type SandboxState } from '../state';
import { queryRoute } from '../validation';

export const JD_UNION_AUTHORISATION_PATH = '/jd-union/authorisations';

/** JD Union ids are digits. */
export const JD_UNION_ID_PATTERN = /^\d+$/;

const querySchema = z
  .object({ storeId: z.string().min(1), unionId: z.string().regex(JD_UNION_ID_PATTERN, 'expected a JD union id of digits') })
  .strict();

/** JD Union's record of a store's authorisation; it promotes self-operated goods only [src]. */
export function jdUnionRouter(state: SandboxState): Router {
  const router = Router();
  queryRoute(router, JD_UNION_AUTHORISATION_PATH, querySchema, ({ storeId, unionId }): JdUnionAuthorisation => {
    const authorised = state.partners.jdAuthorisations.get(storeId)?.includes(unionId) ?? false;
    const selfOperated = state.partners.stores.get(partnerStoreKey('jd', storeId))?.selfOperated ?? false;
    return { unionId, status: authorised ? 'authorised' : 'not_authorised', selfOperated };
  });
  return router;
}
