import { Router } from 'express';
import { z } from 'zod';
import type { PinduoduoAuthorisation } from '../../partners/types';
import type { SandboxState } from '../state';
import { queryRoute } from '../validation';

export const PINDUODUO_AUTHORISATION_PATH = '/pinduoduo/authorisations';

/** Pinduoduo's promotion positions are `<digits>_<digits>`. */
export const PINDUODUO_PID_PATTERN = /^\d+_\d+$/;

const querySchema = z
  .object({ storeId: z.string().min(1), pid: z.string().regex(PINDUODUO_PID_PATTERN, 'expected a PID as <digits>_<digits>') })
  .strict();

/** Pinduoduo's record of a store's authorisation; it settles by commission only [src]. */
export function pinduoduoRouter(state: SandboxState): Router {
  const router = Router();
  queryRoute(router, PINDUODUO_AUTHORISATION_PATH, querySchema, ({ storeId, pid }): PinduoduoAuthorisation => {
    const authorised = state.partners.pinduoduoAuthorisations.get(storeId)?.includes(pid) ?? false;
    return { pid, status: authorised ? 'authorised' : 'not_authorised', commissionOnly: true };
  });
  return router;
}
