import { Router } from 'express';
import { z } from 'zod';
import type { UnionAuthorisation } from '../../partners/types';
import type { SandboxState } from '../state';
import { queryRoute } from '../validation';

export const TAOBAO_UNION_AUTHORISATION_PATH = '/taobao-union/authorisations';

/** [default] the union's public PID format, `mm_<member>_<site>_<adzone>` (docs/rules.md §5.1). */
export const TAOBAO_PID_PATTERN = /^mm_\d+_\d+_\d+$/;

const querySchema = z
  .object({
    platform: z.enum(['taobao', 'tmall']),
    storeId: z.string().min(1),
    pid: z.string().regex(TAOBAO_PID_PATTERN, 'expected a PID as mm_<member>_<site>_<adzone>'),
  })
  .strict();

/** Taobao Union's record of a PID's authorisation for a store; none recorded reads as not authorised. */
export function taobaoUnionRouter(state: SandboxState): Router {
  const router = Router();
  queryRoute(router, TAOBAO_UNION_AUTHORISATION_PATH, querySchema, ({ platform, storeId, pid }): UnionAuthorisation => {
    const found = state.partners.unionAuthorisations.find((a) => a.platform === platform && a.storeId === storeId && a.pid === pid);
    if (!found) return { pid, status: 'not_authorised', account: null, positionType: null };
    return { pid, status: 'authorised', account: found.account, positionType: found.positionType };
  });
  return router;
}
