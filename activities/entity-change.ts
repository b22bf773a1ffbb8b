import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/connection';
import { createDepositAccountRepository } from '../db/repositories/deposit-accounts';
import { createIdentityKeyRepository } from '../db/repositories/identity-keys';
import { createMerchantRepository } from '../db/repositories/merchants';
import { createShopRepository } from '../db/repositories/shops';
import { createVerificationCaseRepository } from '../db/repositories/verification-cases';
import { lastNaturalMonth, requiredDeposit } from '../domain/deposit';
import type { DepositPolicy } from '../domain/deposit-policy';
import { ErrorType } from '../domain/errors';
import type { EntityType } from '../domain/verification';
import type { PlatformClient } from '../platform/types';
import { identityRefusalsAreFinal } from './verification';

export interface EntityChangeActivityDeps {
  db: Db;
  platform: PlatformClient;
  policy: DepositPolicy;
}

/** The side effects of an approved change of entity (workflows/entity-change.ts). */
export function createEntityChangeActivities({ db, platform, policy }: EntityChangeActivityDeps) {
  const cases = createVerificationCaseRepository(db);
  const merchants = createMerchantRepository(db);
  const identityKeys = createIdentityKeyRepository(db);
  const shops = createShopRepository(db);
  const accounts = createDepositAccountRepository(db);

  return {
    /**
     * The merchant becomes the entity of the case (type, name, the number it holds) and its
     * shop takes the new type, in one transaction. A number another merchant holds is a
     * final refusal, and nothing changes.
     */
    async applyEntityChange(input: { caseId: string; merchantId: string }): Promise<{ shopId: string; shopType: EntityType }> {
      const found = await cases.findCase(input.caseId);
      if (!found) throw ApplicationFailure.nonRetryable(`case ${input.caseId} is not recorded`, ErrorType.RecordNotFound);
      const shop = await identityRefusalsAreFinal(async () =>
        merchants.changeEntity({
          merchantId: input.merchantId,
          caseId: input.caseId,
          entityType: found.entity_type,
          legalName: found.legal_name,
          identity: await identityKeys.latestIdentityOf(input.caseId),
        }),
      );
      return { shopId: shop.id, shopType: shop.shop_type as EntityType };
    },

    /**
     * The shop's requirement under its new type (the base depends on it, docs/rules.md section
     * 2), from last month's sales and its categories as the monthly re-assessment does,
     * saved for the deposit process to be told.
     */
    async reassessDepositForShopType(input: { shopId: string; shopType: EntityType; asOf: string }) {
      const { month } = lastNaturalMonth(new Date(input.asOf));
      const [categories, sales] = await Promise.all([shops.categoriesOf(input.shopId), platform.monthlySales(input.shopId, month)]);
      const open = categories.filter((c) => c.status === 'open').map((c) => c.category);
      const required = requiredDeposit(policy, { shopType: input.shopType, specialCategories: open, lastMonthGmvFen: sales.gmvFen });
      await accounts.saveRequirement(input.shopId, { requiredFen: required.totalFen, parts: required, month, at: new Date() });
      return { requiredFen: required.totalFen, month };
    },
  };
}

export type EntityChangeActivities = ReturnType<typeof createEntityChangeActivities>;
