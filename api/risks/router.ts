import { Router } from 'express';
import { requireRole } from '../auth';
import { listRoute } from '../list-route';
import { describeRoute, json } from '../openapi';
import type { RouteFactory, RouterDeps } from '../routes';
import { parse } from '../validate';
import { addBannedWordsBody, bannedWordList, bannedWordsAdded, riskFindingItem, riskFindingListQuery } from './schemas';
import { createRiskService, type RiskService } from './service';

export type RiskRouterDeps = Omit<RouterDeps<RiskService>, 'idempotent'>;

/** The banned-word list and the risk findings that open violation cases (docs/rules.md §5.3). */
export function createRiskRouter({ service, registry, limitMutations }: RiskRouterDeps): Router {
  const router = Router();

  describeRoute(registry, {
    method: 'get',
    path: '/v1/banned-words',
    summary: 'The banned-word list at its newest version, and every version with who added it and from which source (ops, admin)',
    responses: { 200: { description: 'the list', ...json(bannedWordList) } },
  });
  router.get('/banned-words', requireRole('ops', 'admin'), async (_req, res) => {
    res.json(await service.bannedWords());
  });

  describeRoute(registry, {
    method: 'post',
    path: '/v1/banned-words',
    summary: 'Add words to the banned-word list: a new version, used by the next scans; words already listed add nothing (ops, admin)',
    request: { body: { required: true, ...json(addBannedWordsBody) } },
    responses: {
      200: { description: 'every word was listed already: no new version', ...json(bannedWordsAdded) },
      201: { description: 'a new version', ...json(bannedWordsAdded) },
    },
  });
  router.post('/banned-words', requireRole('ops', 'admin'), limitMutations, async (req, res) => {
    const body = parse(addBannedWordsBody, req.body, 'banned words');
    res.locals.audit = { action: 'banned_words.add', target: 'banned_words' };
    const added = await service.addBannedWords(body, req.principal!);
    res.locals.audit = { action: 'banned_words.add', target: `banned_words:v${added.version}`, details: { added: added.added.length } };
    res.status(added.added.length > 0 ? 201 : 200).json(added);
  });

  listRoute(router, registry, {
    path: '/v1/risk-findings',
    summary: 'What the catalogue risk checks found, the newest first; filters kind, status, shopId, merchantId (ops, reviewer, finance, admin; merchant for its own)',
    roles: ['merchant', 'ops', 'reviewer', 'finance', 'admin'],
    query: riskFindingListQuery,
    item: riskFindingItem,
    list: (query, principal) => service.findings(query, principal),
  });

  return router;
}

/** The risk routes, mounted with the violation routes: the findings are what opens cases. */
export const riskRoutes: RouteFactory = ({ db, openapi, limitMutations }) => createRiskRouter({ service: createRiskService(db), registry: openapi, limitMutations });
