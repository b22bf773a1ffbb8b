import { createVerificationActivities } from '../activities/verification';
import { createDepositActivities } from '../activities/deposits';
import { createClosureActivities } from '../activities/closure';
import { createPromotionClosureActivities } from '../activities/promotion-closure';
import { createFinalSettlement, createSettlementActivities } from '../activities/settlement';
import { createOrderImportActivities } from '../activities/order-import';
import { createFulfilmentActivities } from '../activities/fulfilment';
import { createViolationActivities } from '../activities/violations';
import { createEntityChangeActivities } from '../activities/entity-change';
import { createStoreBindingActivities } from '../activities/store-binding';
import { createLinkWindowActivities } from '../activities/link-windows';
import { createQualificationActivities } from '../activities/qualifications';
import { createCatalogueSyncActivities } from '../activities/catalogue-sync';
import { createCatalogueRiskActivities } from '../activities/catalogue-risks';
import { createEnforcementActivities } from '../activities/enforcement';
import { createAfterSalesActivities } from '../activities/after-sales';
import { createCampaignActivities } from '../activities/campaigns';
import { createOrderPartitionActivities } from '../activities/order-partitions';
import { createIdentityKeyRepository } from '../db/repositories/identity-keys';
import { createMerchantRepository } from '../db/repositories/merchants';
import { createVerificationCaseRepository } from '../db/repositories/verification-cases';
import { DEFAULT_VIOLATION_POLICY } from '../domain/violations';
import type { RouteFactory } from '../api/routes';
import { settlementRoutes } from '../api/settlements/router';
import { shopRoutes } from '../api/shops/router';
import { verificationRoutes } from '../api/verifications/router';
import { violationRoutes } from '../api/violations/router';
import { bindingRoutes } from '../api/bindings/router';
import { linkWindowRoutes } from '../api/link-windows/router';
import { qualificationRoutes } from '../api/qualifications/router';
import { catalogueRoutes } from '../api/catalogue/router';
import { fulfilmentRoutes } from '../api/fulfilment/router';
import { enforcementRoutes } from '../api/enforcement/router';
import { afterSalesRoutes } from '../api/after-sales/router';
import { campaignRoutes } from '../api/campaigns/router';
import type { ProcessIdentity } from '../workflows/process';
import { depositAccountProcess } from '../workflows/deposit-account.defs';
import { depositReassessmentProcess } from '../workflows/deposit-reassessment.defs';
import { entityChangeProcess } from '../workflows/entity-change.defs';
import { linkWindowProcess } from '../workflows/link-window.defs';
import { catalogueSyncProcess } from '../workflows/catalogue-sync.defs';
import { enforcementActionProcess } from '../workflows/enforcement-action.defs';
import { afterSalesEscalationProcess } from '../workflows/after-sales-escalation.defs';
import { campaignProcess } from '../workflows/campaign.defs';
import { orderImportProcess } from '../workflows/order-import.defs';
import { fulfilmentScanProcess } from '../workflows/fulfilment-scan.defs';
import { orderPartitionsProcess } from '../workflows/order-partitions.defs';
import { promotionClosureProcess } from '../workflows/promotion-closure.defs';
import { qualificationCheckProcess } from '../workflows/qualification-check.defs';
import { monthlySettlementProcess } from '../workflows/settlement.defs';
import { shopClosureProcess } from '../workflows/shop-closure.defs';
import { storeBindingProcess } from '../workflows/store-binding.defs';
import { verificationProcess } from '../workflows/verification.defs';
import { violationCaseProcess } from '../workflows/violation-case.defs';
import type { ActivityDeps } from './dependencies';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- activities take their own argument types
type ActivityGroup = Record<string, (...args: any[]) => Promise<unknown>>;

/** A process as merchant-ops runs it: who it is, what its workflow calls, what the API exposes of it. */
export interface RegisteredProcess extends ProcessIdentity {
  /** The activities its workflow calls, built over the worker's injected clients. */
  readonly activities?: (deps: ActivityDeps) => ActivityGroup;
  /** Its routes under /v1; processes that share a router name the same factory. */
  readonly routes?: RouteFactory;
}

/**
 * Every process merchant-ops runs, declared once. The worker registers the activities
 * (worker/dependencies.ts), schedules are created from it (worker/schedules.ts), the API
 * mounts the routes (api/app.ts) and the replay test maps recorded histories to workflow
 * types through it. Adding a process: its own files (defs, workflow, activities, routes)
 * plus one entry here and its export in workflows/index.ts, the bundle's entry, which
 * cannot import this file (it pulls Node code). test/worker/registry.test.ts checks the two agree.
 */
export const PROCESSES: readonly RegisteredProcess[] = [
  {
    ...verificationProcess,
    activities: (d) =>
      createVerificationActivities({
        cases: createVerificationCaseRepository(d.db),
        merchants: createMerchantRepository(d.db),
        identityKeys: createIdentityKeyRepository(d.db),
        platform: d.platform,
        calendar: d.calendar,
        policy: d.policy,
      }),
    routes: verificationRoutes,
  },
  {
    ...entityChangeProcess,
    activities: (d) => createEntityChangeActivities({ db: d.db, platform: d.platform, policy: d.depositPolicy }),
    routes: verificationRoutes,
  },
  {
    ...depositAccountProcess,
    activities: (d) => createDepositActivities({ db: d.db, platform: d.platform, policy: d.depositPolicy, temporal: d.temporal }),
    routes: shopRoutes,
  },
  // Its one activity (reassessShops) is a deposit activity: the deposit group registers it.
  { ...depositReassessmentProcess },
  {
    ...shopClosureProcess,
    activities: (d) =>
      createClosureActivities({
        db: d.db,
        platform: d.platform,
        policy: d.depositPolicy,
        finalSettlement: createFinalSettlement({ db: d.db, platform: d.platform }),
      }),
    routes: shopRoutes,
  },
  {
    ...promotionClosureProcess,
    activities: (d) => createPromotionClosureActivities({ db: d.db, platform: d.platform, policy: d.depositPolicy }),
    routes: shopRoutes,
  },
  {
    ...monthlySettlementProcess,
    activities: (d) => createSettlementActivities({ db: d.db, platform: d.platform, thresholds: d.settlementThresholds }),
    routes: settlementRoutes,
  },
  {
    ...orderImportProcess,
    activities: (d) => createOrderImportActivities({ db: d.db, platform: d.platform }),
  },
  {
    ...fulfilmentScanProcess,
    activities: (d) => createFulfilmentActivities({ db: d.db, platform: d.platform, policy: d.fulfilmentPolicy }),
    routes: fulfilmentRoutes,
  },
  {
    ...orderPartitionsProcess,
    activities: (d) => createOrderPartitionActivities({ db: d.db }),
  },
  {
    ...violationCaseProcess,
    activities: (d) =>
      createViolationActivities({ db: d.db, platform: d.platform, calendar: d.calendar, policy: DEFAULT_VIOLATION_POLICY, temporal: d.temporal }),
    routes: violationRoutes,
  },
  {
    ...storeBindingProcess,
    activities: (d) => createStoreBindingActivities({ db: d.db, partners: d.partners, platform: d.platform, settings: d.partnerSettings }),
    routes: bindingRoutes,
  },
  {
    ...linkWindowProcess,
    activities: (d) => createLinkWindowActivities({ db: d.db, platform: d.platform }),
    routes: linkWindowRoutes,
  },
  {
    ...qualificationCheckProcess,
    activities: (d) => createQualificationActivities({ db: d.db, platform: d.platform, temporal: d.temporal }),
    routes: qualificationRoutes,
  },
  {
    ...catalogueSyncProcess,
    // The risk scan runs after each store's base sync: its group registers with the sync.
    activities: (d) => ({
      ...createCatalogueSyncActivities({ db: d.db, partners: d.partners, platform: d.platform, secretsKey: d.partnerSettings.secretsKey }),
      ...createCatalogueRiskActivities({ db: d.db, platform: d.platform, temporal: d.temporal }),
    }),
    routes: catalogueRoutes,
  },
  {
    ...enforcementActionProcess,
    activities: (d) => createEnforcementActivities({ db: d.db, platform: d.platform }),
    routes: enforcementRoutes,
  },
  {
    ...afterSalesEscalationProcess,
    activities: (d) => createAfterSalesActivities({ db: d.db, platform: d.platform }),
    routes: afterSalesRoutes,
  },
  {
    ...campaignProcess,
    activities: (d) => createCampaignActivities({ db: d.db, platform: d.platform }),
    routes: campaignRoutes,
  },
];

/** The process a workflow type belongs to. */
export function processOfWorkflowType(workflowType: string): RegisteredProcess | undefined {
  return PROCESSES.find((p) => p.workflowType === workflowType);
}

/** Each route factory once, in registry order (several processes share the shop routes). */
export function routeFactories(processes: readonly RegisteredProcess[] = PROCESSES): RouteFactory[] {
  return [...new Set(processes.flatMap((p) => (p.routes ? [p.routes] : [])))];
}
