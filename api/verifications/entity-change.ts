import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createMerchantRepository } from '../../db/repositories/merchants';
import { createVerificationCaseRepository } from '../../db/repositories/verification-cases';
import { createVerificationSubmissionRepository } from '../../db/repositories/verification-submissions';
import type { EntityType } from '../../domain/verification';
import type { PiiVault } from '../../security/pii';
import { entityChangeProcess, entityChangeWorkflowId, type EntityChangeInput } from '../../workflows/entity-change.defs';
import { assertMayActFor, type Principal } from '../auth';
import { conflict, notFound } from '../errors';
import { createIdentityGuard } from './identity-guard';
import type { EntityChangeBody } from './schemas';
import { actorOf, newCaseId } from './case-ids';
import { startReviewCase } from './review-start';

/** A verified merchant's change of entity; decided and read through the verification case routes. */
export function createEntityChangeService({ db, temporal, taskQueue, vault }: { db: Knex; temporal: Client; taskQueue: string; vault: PiiVault }) {
  const cases = createVerificationCaseRepository(db);
  const merchants = createMerchantRepository(db);
  const submissions = createVerificationSubmissionRepository(db, vault);
  const identity = createIdentityGuard(db, vault);

  return {
    /**
     * A verified merchant's change of entity: its own reviewed process (workflows/entity-change.ts),
     * one open per merchant. The merchant, its shop and its deposit change only on approval.
     */
    async requestEntityChange(merchantId: string, body: EntityChangeBody, principal: Principal, now = new Date()) {
      assertMayActFor(principal, merchantId);
      const merchant = await merchants.findMerchant(merchantId);
      if (!merchant) throw notFound(`merchant ${merchantId} does not exist`);
      if (merchant.verification_status !== 'verified') {
        throw conflict(`merchant ${merchantId} is not verified: it files a verification first (POST /v1/verifications)`, { reason: 'not_verified' });
      }
      const shop = await merchants.findShopOf(merchantId);
      if (!shop || shop.status !== 'open') throw conflict(`merchant ${merchantId} has no open shop whose entity could change`, { reason: 'no_open_shop' });
      await identity.assertSubmissionFree(body, merchantId);

      const caseId = newCaseId();
      const workflowId = entityChangeWorkflowId(merchantId);
      const input: EntityChangeInput = {
        caseId,
        merchantId,
        fromEntityType: shop.shop_type as EntityType,
        toEntityType: body.entityType,
        submittedAt: now.toISOString(),
        submittedBy: actorOf(principal),
      };
      await startReviewCase(db, temporal, taskQueue, {
        process: entityChangeProcess,
        workflowId,
        merchantId,
        caseId,
        input,
        openCaseName: 'change of entity',
        async record(trx) {
          await cases.insertCase(
            { id: caseId, merchantId, workflowId, entityType: body.entityType, legalName: body.legalName, submittedAt: now, kind: 'entity_change' },
            trx,
          );
          await submissions.insert(caseId, 1, body, now, trx);
        },
      });
      return { caseId, workflowId, status: 'in_review' as const };
    },
  };
}
