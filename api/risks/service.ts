import type { Knex } from 'knex';
import type { z } from 'zod';
import { BannedWordListFull, createCatalogueRiskRepository, FINDING_LIST_ORDER, type FindingRow } from '../../db/repositories/catalogue-risks';
import { BANNED_WORD_LIMIT } from '../../domain/catalogue-risks';
import { HttpError } from '../errors';
import type { Principal } from '../auth';
import { merchantScope } from '../list-route';
import { pageThrough } from '../pagination';
import type { AddBannedWordsBody, riskFindingItem, RiskFindingListQuery } from './schemas';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

const itemOf = (f: FindingRow): z.infer<typeof riskFindingItem> => ({
  key: f.key,
  bindingId: f.binding_id,
  productId: f.product_id,
  merchantId: f.merchant_id,
  shopId: f.shop_id,
  kind: f.kind,
  day: f.day,
  details: f.details,
  status: f.status,
  caseId: f.case_id,
  caseRefused: f.case_refused,
  foundAt: new Date(f.found_at).toISOString(),
  fixedAt: iso(f.fixed_at),
  attachedToCaseAt: iso(f.attached_to_case_at),
});

/** The banned-word list ops maintain and the findings the risk checks recorded (docs/rules.md §5.3). */
export function createRiskService(db: Knex) {
  const risks = createCatalogueRiskRepository(db);
  return {
    async bannedWords() {
      const list = await risks.bannedWords();
      const versions: Array<{ version: number; words_added: string[]; added_by: string; source: string; added_at: Date }> = await db('banned_word_versions').orderBy('version');
      return {
        ...list,
        versions: versions.map((v) => ({ version: v.version, wordsAdded: v.words_added, addedBy: v.added_by, source: v.source, addedAt: new Date(v.added_at).toISOString() })),
      };
    },

    async addBannedWords(body: AddBannedWordsBody, principal: Principal, now = new Date()) {
      try {
        return await risks.addBannedWords(body.words, principal.sub, body.source, now);
      } catch (err) {
        if (err instanceof BannedWordListFull) throw new HttpError(422, 'banned_word_list_full', err.message, { size: err.size, limit: BANNED_WORD_LIMIT });
        throw err;
      }
    },

    async findings({ limit, cursor, ...requested }: RiskFindingListQuery, principal: Principal) {
      const filters = { ...requested, merchantId: merchantScope(principal, requested.merchantId) };
      return pageThrough({ list: 'risk-findings', filters }, FINDING_LIST_ORDER, { cursor, limit }, (after, n) => risks.page(filters, after, n), itemOf);
    },
  };
}

export type RiskService = ReturnType<typeof createRiskService>;
