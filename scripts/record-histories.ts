/**
 * Records the histories that test/replay/replay.test.ts replays: representative
 * verification reviews run on the time-skipping server through the full test stack
 * (real worker, activities, database and sandbox platform), each saved as JSON in the
 * format of `temporal workflow show --output json`.
 *
 *   npm run record-histories        (= tsx scripts/record-histories.ts)
 *
 * Read test/replay/replay.test.ts before running this: histories are recorded when a
 * workflow is added or a scenario is missing, never to make a failing replay pass.
 *
 * The workflows are bundled fresh from workflows/ (not test/.bundle/, which may be stale),
 * so the histories always come from the code in the checkout. The clock of the test server
 * starts at the real time: its year (and the next few working days) must be in the
 * working-day calendar, as in production.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode } from '@temporalio/worker';
import { enterpriseRequest, individualRequest, eventually } from '../test/support/fixtures';
import { paymentIdOf } from '../test/support/payments';
import { startStack, type Stack } from '../test/support/stack';
import { decideUpdate, verificationStateQuery, type VerificationState } from '../workflows/verification.defs';
import { resolveAttentionUpdate } from '../workflows/attention.defs';
import { deductUpdate, depositWorkflowId } from '../workflows/deposit-account.defs';
import { promotionClosureWorkflowId } from '../workflows/promotion-closure.defs';
import { closureStateQuery, closureWorkflowId } from '../workflows/shop-closure.defs';
import { createShopService } from '../api/shops/service';
import { depositState, finance, merchantOf, openShop, ops, platformShop, reviewer } from '../test/support/shops';
import { seedOrders } from './seed-orders';
import { SETTLEMENT_PROCESS, settlementWorkflowId, SETTLEMENT_WORKFLOW_TYPE } from '../workflows/settlement.defs';
import { BUSINESS_STATUS, PROCESS_TYPE } from '../workflows/search-attributes';
import { CATALOGUE_SYNC_WORKFLOW_TYPE, catalogueSyncWorkflowId } from '../workflows/catalogue-sync.defs';
import { createEnforcementService } from '../api/enforcement/service';
import { createEnforcementRepository } from '../db/repositories/enforcement';
import { ENFORCEMENT_WORKFLOW_TYPE, enforcementWorkflowId } from '../workflows/enforcement-action.defs';
import { feedOrdersOf, onPlatformFeed, seedEnforcedShop } from '../test/support/enforcement';
import { product as catalogueProduct } from '../test/support/catalogue';
import { ORDER_IMPORT_WORKFLOW_TYPE, orderImportWorkflowId } from '../workflows/order-import.defs';
import type { FeedOrder } from '../platform/types';
import { appealUpdate, decideAppealUpdate } from '../workflows/violation-case.defs';
import { caseState, openViolation } from '../test/support/violations';
import { appendToFeed } from '../test/support/feed';
import { createFakePartnerGateway, storeKey } from '../test/support/partner-gateway-fake';
import { bindingApi, bindingState, bindYouzan, merchantClaims, seedPartnerStores } from '../test/support/bindings';
import { createLinkWindowService } from '../api/link-windows/service';
import { shanghaiDate } from '../domain/calendar';
import { closingInstant, openingInstant } from '../domain/link-windows';
import { bindStore, linksTakenDownEarlier } from '../test/support/link-windows';
import { createQualificationRepository } from '../db/repositories/qualifications';
import { QUALIFICATION_CHECK_PROCESS, QUALIFICATION_CHECK_WORKFLOW_TYPE, qualificationCheckWorkflowId } from '../workflows/qualification-check.defs';
import { createAfterSalesRepository, type TicketOrder } from '../db/repositories/after-sales';
import { handlingDueAt } from '../domain/after-sales';
import { addOrder } from '../test/support/after-sales';
import { AFTER_SALES_ESCALATION_PROCESS, AFTER_SALES_ESCALATION_WORKFLOW_TYPE, afterSalesEscalationWorkflowId } from '../workflows/after-sales-escalation.defs';
import { FULFILMENT_SCAN_PROCESS, FULFILMENT_SCAN_WORKFLOW_TYPE, fulfilmentScanWorkflowId } from '../workflows/fulfilment-scan.defs';
import { fulfilmentOrder, publishAndImport } from '../test/support/fulfilment';
import { createCampaignService } from '../api/campaigns/service';
import { ORDER_PARTITIONS_PROCESS, ORDER_PARTITIONS_WORKFLOW_TYPE, orderPartitionsWorkflowId } from '../workflows/order-partitions.defs';

const HISTORIES_DIR = path.resolve(__dirname, '../test/replay/histories');
const MINUTE = 60_000;

/** Returns the workflow ids to save, by file name (without .json). */
type Scenario = (stack: Stack, merchantId: string) => Promise<string | Record<string, string>>;

const waitForState = (stack: Stack, workflowId: string, done: (s: VerificationState) => boolean) =>
  eventually(() => stack.env.client.workflow.getHandle(workflowId).query(verificationStateQuery), done, 30_000);

/** Waits for the workflow to close without `result()` on env.client, which would skip time. */
async function closedHandle(stack: Stack, workflowId: string): Promise<WorkflowHandle> {
  const handle = new Client({ connection: stack.env.connection }).workflow.getHandle(workflowId);
  await eventually(() => handle.describe(), (d) => d.status.name !== 'RUNNING', 30_000);
  await handle.result();
  return handle;
}

const scenarios: Record<string, Scenario> = {
  /** The SLA runs out, the supervisor is told, then a reviewer approves and a shop opens. */
  async 'escalated-approved'(stack, merchantId) {
    const now = await stack.env.currentTimeMs();
    const started = await stack.verifications.start(individualRequest(merchantId), merchantOf(merchantId), new Date(now));
    const name = await waitForState(stack, started.workflowId, (s) => s.deadline !== null);
    await stack.env.sleep(Date.parse(name.deadline as string) - now + MINUTE);
    await waitForState(stack, started.workflowId, (s) => s.overdue);
    await stack.verifications.decide(started.caseId, { decision: 'approve', reasons: [] }, reviewer);
    return started.workflowId;
  },

  /** A request for information answered after 2 days, a fresh SLA, then a rejection. */
  async 'request-info-resubmitted-rejected'(stack, merchantId) {
    const started = await stack.verifications.start(individualRequest(merchantId), ops, new Date(await stack.env.currentTimeMs()));
    await waitForState(stack, started.workflowId, (s) => s.deadline !== null);
    await stack.verifications.decide(started.caseId, { decision: 'request_info', reasons: ['ID photo is blurred'] }, reviewer);
    await stack.env.sleep('2 days');
    const { idNumber, bankCard, documents } = individualRequest(merchantId);
    await stack.verifications.resubmit(started.caseId, { idNumber, bankCard, documents }, merchantOf(merchantId), new Date(await stack.env.currentTimeMs()));
    await waitForState(stack, started.workflowId, (s) => s.history.filter((h) => h.type === 'deadline_set').length === 2);
    await stack.verifications.decide(started.caseId, { decision: 'reject', reasons: ['name does not match the ID card'] }, reviewer);
    return started.workflowId;
  },

  /** A request for information left unanswered past the 7-day window. */
  async 'request-info-abandoned'(stack, merchantId) {
    const started = await stack.verifications.start(individualRequest(merchantId), ops, new Date(await stack.env.currentTimeMs()));
    await waitForState(stack, started.workflowId, (s) => s.deadline !== null);
    await stack.verifications.decide(started.caseId, { decision: 'request_info', reasons: ['bank card photo missing'] }, reviewer);
    await stack.env.sleep('7 days');
    await stack.env.sleep(MINUTE);
    return started.workflowId;
  },

  /**
   * A shop's life: approval opens its deposit account; a deduction walks the whole ladder;
   * a top-up restores it; the merchant closes the shop and both deposits are refunded.
   */
  async 'shop-lifecycle'(stack, merchantId) {
    const { shopId } = await openShop(stack, merchantId);
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    const me = merchantOf(merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'promotion_deposit', amountFen: 50_000 }) }, me);
    platformShop(stack, shopId).availableProceedsFen = 5_000;
    await shops.deduct(shopId, { account: 'deposit', amountFen: 20_000, reason: 'fine', reference: 'fine-1' }, finance);
    await stack.env.sleep('16 days');
    await depositState(stack, shopId, (s) => s.episode?.stepsDone.length === 6);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 15_000 }) }, me);
    await depositState(stack, shopId, (s) => s.episode === null);
    await shops.requestClosure(shopId, me);
    await closedHandle(stack, closureWorkflowId(shopId));
    return {
      'verification-approved-opens-deposit': `verification:${merchantId}`,
      'deposit-account-ladder-restored-closed': depositWorkflowId(shopId),
      'shop-closure-refunded': closureWorkflowId(shopId),
    };
  },

  /**
   * A closure asked for during a shortfall pauses the episode; cancelled, the same episode
   * resumes; a top-up restores it; a second closure refunds and closes the shop.
   */
  async 'ladder-paused-by-closure'(stack, merchantId) {
    const { shopId } = await openShop(stack, merchantId);
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    const me = merchantOf(merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    await shops.deduct(shopId, { account: 'deposit', amountFen: 10_000, reason: 'fine', reference: 'fine-1' }, finance);
    await stack.env.sleep('4 days');
    await depositState(stack, shopId, (s) => s.episode?.stepsDone.length === 3);
    platformShop(stack, shopId).orders = [{ orderId: 'o-1', status: 'open', receiptConfirmedAt: null }];
    await shops.requestClosure(shopId, me);
    await depositState(stack, shopId, (s) => s.status === 'closing');
    await stack.env.sleep('4 days');
    await shops.cancelClosure(shopId, me);
    await depositState(stack, shopId, (s) => s.status === 'open' && s.episode?.stepsDone.length === 4);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 10_000 }) }, me);
    await depositState(stack, shopId, (s) => s.episode === null);
    platformShop(stack, shopId).orders = [];
    await shops.requestClosure(shopId, me);
    await closedHandle(stack, closureWorkflowId(shopId));
    return { 'deposit-account-paused-by-closure-resumed': depositWorkflowId(shopId) };
  },

  /**
   * Recorded after a process began to end showing its final status: the deposit of a closed
   * shop ends `closed` (a patch marker and an upsert right before it completes) where runs
   * from before it ended showing `closing`.
   */
  async 'deposit-closed-final-status'(stack, merchantId) {
    const { shopId } = await openShop(stack, merchantId);
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    const me = merchantOf(merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    await depositState(stack, shopId, (s) => s.funded);
    await shops.requestClosure(shopId, me);
    await closedHandle(stack, closureWorkflowId(shopId));
    return { 'deposit-account-closed-final-status': depositWorkflowId(shopId) };
  },

  /** A closure waiting on an open order, cancelled by the merchant. */
  async 'closure-cancelled'(stack, merchantId) {
    const { shopId } = await openShop(stack, merchantId);
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    platformShop(stack, shopId).orders = [{ orderId: 'o-1', status: 'open', receiptConfirmedAt: null }];
    await shops.requestClosure(shopId, merchantOf(merchantId));
    await eventually(() => stack.env.client.workflow.getHandle(closureWorkflowId(shopId)).query(closureStateQuery), (s) => s.blockers !== null, 30_000);
    await shops.cancelClosure(shopId, merchantOf(merchantId));
    return { 'shop-closure-cancelled': closureWorkflowId(shopId) };
  },

  /** The same, recorded after the cancel update began to answer once the cancellation is saved. */
  async 'closure-cancelled-after-record'(stack, merchantId) {
    const { 'shop-closure-cancelled': workflowId } = (await scenarios['closure-cancelled']!(stack, merchantId)) as Record<string, string>;
    return { 'shop-closure-cancelled-after-record': workflowId! };
  },

  /**
   * A reason the database refuses: the case waits in needs_attention, ops retry (refused
   * again), then abandon, which closes it. Proves the attention path replays.
   */
  async 'needs-attention-closed-by-ops'(stack, merchantId) {
    const started = await stack.verifications.start(individualRequest(merchantId), merchantOf(merchantId), new Date(await stack.env.currentTimeMs()));
    const handle = stack.env.client.workflow.getHandle(started.workflowId);
    await waitForState(stack, started.workflowId, (s) => s.deadline !== null);
    await handle.startUpdate(decideUpdate, { args: [{ decision: 'reject', reasons: ['\u0000'], reviewer: 'reviewer:rui' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    await waitForState(stack, started.workflowId, (s) => s.status === 'needs_attention');
    await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'retry', actor: 'ops:olga' }] });
    await waitForState(stack, started.workflowId, (s) => s.status === 'needs_attention' && s.history.filter((h) => h.type === 'needs_attention').length === 2);
    await handle.executeUpdate(resolveAttentionUpdate, { args: [{ action: 'abandon', actor: 'ops:olga' }] });
    return started.workflowId;
  },
};

const feedOrder = (orderId: string, merchantId: string, status: FeedOrder['status']): FeedOrder => ({
  orderId,
  merchantId,
  shopId: `shop-${merchantId}`,
  category: 'apparel',
  amountFen: 25_000,
  status,
  paidAt: '2026-10-02T02:00:00.000Z',
  receiptConfirmedAt: status === 'paid' ? null : '2026-10-06T02:00:00.000Z',
  refundedAt: status === 'refunded' ? '2026-10-09T02:00:00.000Z' : null,
});

/** Settlement and the order import: a period settled from seeded and fed orders, then re-run. */
const settlementScenarios: Record<string, Scenario> = {
  async 'settlement-and-import'(stack) {
    const period = '2026-10';
    const client = new Client({ connection: stack.env.connection });
    await appendToFeed(stack, [feedOrder('rec-1', 'm-rec-1', 'paid'), feedOrder('rec-2', 'm-rec-2', 'receipt_confirmed')]);
    await client.workflow.execute(ORDER_IMPORT_WORKFLOW_TYPE, { workflowId: orderImportWorkflowId(), taskQueue: stack.config.TEMPORAL_TASK_QUEUE, args: [{}] });
    await appendToFeed(stack, [feedOrder('rec-1', 'm-rec-1', 'receipt_confirmed'), feedOrder('rec-3', 'm-rec-3', 'refunded')]);
    await seedOrders(stack.db, { orders: 600, merchants: 12, period, seed: 3 });
    const first = `${settlementWorkflowId(period)}`;
    await client.workflow.execute(SETTLEMENT_WORKFLOW_TYPE, { workflowId: first, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, args: [{ period }] });
    const rerun = `${settlementWorkflowId(period)}:rerun`;
    await client.workflow.execute(SETTLEMENT_WORKFLOW_TYPE, { workflowId: rerun, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, args: [{ period }] });
    return { 'order-import-drained': orderImportWorkflowId(), 'monthly-settlement-paid': first, 'monthly-settlement-rerun': rerun };
  },

  /** Recorded after a run began to end showing `completed`: started as the API starts it, showing `running`. */
  async 'settlement-final-status'(stack) {
    const period = '2026-09';
    await seedOrders(stack.db, { orders: 60, merchants: 3, period, seed: 5 });
    const workflowId = `${settlementWorkflowId(period)}:final-status`;
    await new Client({ connection: stack.env.connection }).workflow.execute(SETTLEMENT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ period }],
      typedSearchAttributes: [
        { key: PROCESS_TYPE, value: SETTLEMENT_PROCESS },
        { key: BUSINESS_STATUS, value: 'running' },
      ],
    });
    return { 'monthly-settlement-completed-final-status': workflowId };
  },

  /** A scheduled run (Temporal's own id) hands its period to settlement:<period> and ends. */
  async 'settlement-scheduled'(stack) {
    const client = new Client({ connection: stack.env.connection });
    const workflowId = 'settlement-scheduled-2026-11-20T02:00:00Z';
    const handOver = (await client.workflow.execute(SETTLEMENT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ scheduled: true }],
      typedSearchAttributes: [{ key: PROCESS_TYPE, value: SETTLEMENT_PROCESS }],
    })) as { workflowId: string };
    await client.workflow.getHandle(handOver.workflowId).result();
    return { 'monthly-settlement-scheduled-hand-over': workflowId };
  },

  /**
   * Recorded after a run began to settle in lanes (patched): two lanes' batches at once. The
   * other settlement histories settle one batch after another and prove the patch replay-safe.
   * Ranges are 2,500 merchants by default and a lane is at least one: 5,000 merchants make two.
   */
  async 'settlement-lanes'(stack) {
    const period = '2026-11';
    await seedOrders(stack.db, { orders: 15_000, merchants: 5_000, period, seed: 17 });
    const workflowId = `${settlementWorkflowId(period)}:lanes`;
    await new Client({ connection: stack.env.connection }).workflow.execute(SETTLEMENT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ period, lanes: 2 }],
    });
    return { 'monthly-settlement-lanes': workflowId };
  },
};
Object.assign(scenarios, settlementScenarios);

const violationUpdates = (stack: Stack, caseId: string) => stack.env.client.workflow.getHandle(`violation:${caseId}`);

/** Violation cases: reversed by an upheld appeal, expired after a rejected one, a ban (last: it closes a shop). */
const violationScenarios: Record<string, Scenario> = {
  async 'violation-cases'(stack, merchantId) {
    const { shopId } = await openShop(stack, merchantId);
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 300_000 }) }, merchantOf(merchantId));
    await depositState(stack, shopId, (s) => s.funded);

    const fined = await openViolation(stack, { merchantId, shopId, type: 'other', level: 'serious' });
    await caseState(stack, fined.caseId, (s) => s.status === 'appealable');
    await violationUpdates(stack, fined.caseId).executeUpdate(appealUpdate, { args: [{ statement: 'not our listing', actor: merchantId }] });
    await violationUpdates(stack, fined.caseId).executeUpdate(decideAppealUpdate, { args: [{ decision: 'upheld', reasons: ['listing belonged to another shop'], reviewer: 'rui' }] });

    const general = await openViolation(stack, { merchantId, shopId, type: 'price_violation', level: 'general', productIds: ['p-1'] });
    await caseState(stack, general.caseId, (s) => s.status === 'appealable');
    await violationUpdates(stack, general.caseId).executeUpdate(appealUpdate, { args: [{ statement: 'price was right', actor: merchantId }] });
    await violationUpdates(stack, general.caseId).executeUpdate(decideAppealUpdate, { args: [{ decision: 'rejected', reasons: ['screenshots show the gap'], reviewer: 'rui' }] });
    await stack.env.sleep('31 days');
    await caseState(stack, general.caseId, (s) => s.status === 'expired');

    const ban = await openViolation(stack, { merchantId, shopId, type: 'qualification_mismatch', level: 'especially_serious' });
    await caseState(stack, ban.caseId, (s) => s.status === 'permanent');
    return {
      'violation-case-appeal-upheld': `violation:${fined.caseId}`,
      'violation-case-appeal-rejected-expired': `violation:${general.caseId}`,
      'violation-case-ban': `violation:${ban.caseId}`,
    };
  },
};
// The same cases again, opened after their first steps became local activities
// (workflows/violation-case.ts, case-opening-local-activities): runs of both kinds are open.
violationScenarios['violation-cases-local-opening'] = async (stack, merchantId) => {
  const recorded = (await violationScenarios['violation-cases']!(stack, merchantId)) as Record<string, string>;
  // The ban closes the shop; its deposit process took the fine as a local activity (fines-local-activity).
  await stack.env.sleep('30 days');
  return {
    ...Object.fromEntries(Object.entries(recorded).map(([file, workflowId]) => [`${file}-local-opening`, workflowId])),
    'deposit-account-fined-local-closed': depositWorkflowId(`shop-${merchantId}`),
  };
};
Object.assign(scenarios, violationScenarios);

/** A verified individual's change of entity: one approved (the shop becomes an enterprise shop), one rejected. */
const entityChangeScenarios: Record<string, Scenario> = {
  async 'entity-changes'(stack, merchantId) {
    const decideOn = async (owner: string, decision: 'approve' | 'reject') => {
      await openShop(stack, owner);
      const { merchantId: _m, ...company } = enterpriseRequest(owner);
      const started = await stack.verifications.requestEntityChange(owner, company, merchantOf(owner), new Date(await stack.env.currentTimeMs()));
      await waitForState(stack, started.workflowId, (s) => s.deadline !== null);
      await stack.verifications.decide(started.caseId, { decision, reasons: decision === 'reject' ? ['licence does not match'] : [] }, reviewer);
      return started.workflowId;
    };
    return {
      'entity-change-approved': await decideOn(`${merchantId}-a`, 'approve'),
      'entity-change-rejected': await decideOn(`${merchantId}-r`, 'reject'),
    };
  },
};
Object.assign(scenarios, entityChangeScenarios);

const promotionClosureScenarios: Record<string, Scenario> = {
  /** A fine above the deposit is owed; closing third-party promotion takes it, then refunds the rest. */
  async 'promotion-closure'(stack, merchantId) {
    const { shopId } = await openShop(stack, merchantId);
    const shops = createShopService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    const me = merchantOf(merchantId);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'deposit', amountFen: 50_000 }) }, me);
    await shops.topUp(shopId, { paymentId: await paymentIdOf(stack, { shopId, account: 'promotion_deposit', amountFen: 300_000 }) }, me);
    await depositState(stack, shopId, (s) => s.funded);
    await stack.env.client.workflow
      .getHandle(depositWorkflowId(shopId))
      .executeUpdate(deductUpdate, { args: [{ account: 'deposit', amountFen: 200_000, reason: 'fine (recorded scenario)', reference: 'replay-fine', actor: 'ops:olga', owing: true }] });
    await shops.closePromotion(shopId, me);
    await eventually(() => shops.promotionClosure(shopId, me), (s) => s.status === 'closed', 30_000);
    return { 'promotion-closure-owed-refunded': promotionClosureWorkflowId(shopId) };
  },
};
Object.assign(scenarios, promotionClosureScenarios);

/** The partner platforms of every scenario: in memory, as the tests use them. */
const partners = createFakePartnerGateway();

const storeBindingScenarios: Record<string, Scenario> = {
  /**
   * Youzan: bound through OAuth, refreshed twice on its timer, revoked (needs_reauth),
   * authorised again, unbound by the merchant. Taobao: a sub-account's authorisation refused,
   * the main account's bound, unbound by the merchant.
   */
  async 'store-bindings'(stack, merchantId) {
    await openShop(stack, merchantId);
    const stores = seedPartnerStores(partners, merchantId);
    const api = bindingApi(stack);
    const me = merchantClaims(merchantId);

    const youzanId = await bindYouzan(stack, partners, merchantId, stores.youzan);
    const youzan = (await stack.db('store_bindings').where({ id: youzanId }).first()).workflow_id as string;
    await stack.env.sleep('13 days');
    await bindingState(stack, youzan, (s) => (s.grant?.refreshedTimes ?? 0) >= 2);
    partners.revoke(stores.youzan);
    await stack.env.sleep('6 days');
    await bindingState(stack, youzan, (s) => s.status === 'needs_reauth');
    const again = await api.post(`/v1/bindings/${youzanId}/reauthorisation`, me);
    await api.callback({ code: partners.consent(stores.youzan, 'basic'), state: api.stateOf(again.body.authorizeUrl) });
    await bindingState(stack, youzan, (s) => s.status === 'bound');
    await api.post(`/v1/bindings/${youzanId}/unbind`, me, { reason: 'moving on' });

    const started = await api.post('/v1/bindings', me, { platform: 'taobao', storeId: stores.taobao, pid: 'mm_1_2_3' });
    const taobaoId = started.body.bindingId as string;
    partners.unionAnswers.set(storeKey('taobao', stores.taobao), { pid: 'mm_1_2_3', status: 'authorised', account: 'sub', positionType: 'content_scene' });
    await api.post(`/v1/bindings/${taobaoId}/union-authorisation`, me);
    partners.unionAnswers.set(storeKey('taobao', stores.taobao), { pid: 'mm_1_2_3', status: 'authorised', account: 'main', positionType: 'content_scene' });
    await api.post(`/v1/bindings/${taobaoId}/union-authorisation`, me);
    await api.post(`/v1/bindings/${taobaoId}/unbind`, me, { reason: 'moving on' });
    return {
      'store-binding-youzan-refreshed-revoked-reauthorised-unbound': youzan,
      'store-binding-taobao-sub-account-refused-bound-unbound': started.body.workflowId as string,
    };
  },
};
Object.assign(scenarios, storeBindingScenarios);
const linkWindowScenarios: Record<string, Scenario> = {
  /**
   * A JD window: restored links go live at the opening, a link listed while open follows, a
   * new version moves the end two days later, and every link comes down at the end. A second
   * window is cancelled before it opens.
   */
  async 'link-windows'(stack, merchantId) {
    const windows = createLinkWindowService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    const binding = { ...(await bindStore(stack.db, merchantId, 'jd', `jd-${merchantId}`)), merchantId, platform: 'jd' as const, storeId: `jd-${merchantId}` };
    await linksTakenDownEarlier(stack.db, binding, 'self_operated', 250);
    const now = new Date(await stack.env.currentTimeMs());
    const dayIn = (days: number) => shanghaiDate(new Date(now.getTime() + days * 86_400_000));
    const ops = { sub: 'olga', role: 'ops' as const };
    const cancelled = await windows.create({ partner: 'tmall', linkKind: 'short_video_live', opensOn: dayIn(10), closesOn: dayIn(12), phases: [], source: 'recorded scenario' }, ops, now);
    await windows.cancel(cancelled.windowId, ops);

    const plan = { opensOn: dayIn(1), closesOn: dayIn(2), phases: [] };
    const opened = await windows.create({ partner: 'jd', linkKind: 'self_operated', ...plan, source: 'recorded scenario' }, ops, now);
    await stack.env.sleep(openingInstant(plan).getTime() - now.getTime() + MINUTE);
    await eventually(() => windows.view(opened.windowId), (w) => w.progress.live === 250, 30_000);
    const at = new Date(await stack.env.currentTimeMs());
    await windows.listLink({ bindingId: binding.bindingId, linkKind: 'self_operated', productId: 'p-listed', url: 'https://item.jd.com/1.html' }, merchantOf(merchantId), at);
    await eventually(() => windows.view(opened.windowId), (w) => w.progress.live === 251, 30_000);
    const later = { ...plan, closesOn: dayIn(4) };
    await windows.change(opened.windowId, { ...later, source: 'a later notice' }, ops, at);
    // To just past the new end: the window's timer skips there; what remains passes in real time.
    await stack.env.sleep(closingInstant(later)!.getTime() - (await stack.env.currentTimeMs()) + 2_000);
    return { 'link-window-opened-changed-closed': opened.workflowId, 'link-window-cancelled-before-opening': cancelled.workflowId };
  },
};
Object.assign(scenarios, linkWindowScenarios);
/**
 * A base sync over three stores, one a batch: a store waiting for re-authorisation skipped,
 * a store whose products fail their checks (category unmapped, a small main image), and an
 * empty store; the risk scan after each synced store. No product passes, so no listing is sent.
 */
async function baseSyncOverThreeStores(stack: Stack, merchantId: string): Promise<string> {
  const faulty = `tb-${merchantId}`;
  await bindStore(stack.db, merchantId, 'taobao', faulty);
  await bindStore(stack.db, merchantId, 'jd', `jd-${merchantId}`);
  const reauth = await bindStore(stack.db, merchantId, 'pinduoduo', `pdd-${merchantId}`);
  await stack.db('store_bindings').where({ id: reauth.bindingId }).update({ status: 'needs_reauth', sync_enabled: false });
  partners.products.set(storeKey('taobao', faulty), [
    catalogueProduct('p-1', { category: 'cat-unmapped' }),
    catalogueProduct('p-2', { category: 'cat-unmapped', images: [{ url: 'https://img.example.com/p-2.jpg', width: 400, height: 400, watermark: false, text: false }] }),
  ]);
  const workflowId = catalogueSyncWorkflowId(`base:${merchantId}`);
  await stack.env.client.workflow.execute(CATALOGUE_SYNC_WORKFLOW_TYPE, { workflowId, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, args: [{ kind: 'base', startedBy: 'olga', storesPerBatch: 1 }] });
  return workflowId;
}
const catalogueSyncScenarios: Record<string, Scenario> = {
  /** Recorded when each store's scan was an activity of its own. */
  async 'catalogue-sync'(stack, merchantId) {
    return { 'catalogue-sync-base-skipped-failed-checks': await baseSyncOverThreeStores(stack, merchantId) };
  },
  /** A batch's scans in one activity (the patch risk-scans-per-batch). */
  async 'catalogue-sync-batch-scans'(stack, merchantId) {
    return { 'catalogue-sync-base-batch-scans': await baseSyncOverThreeStores(stack, merchantId) };
  },
};
Object.assign(scenarios, catalogueSyncScenarios);

const qualificationScenarios: Record<string, Scenario> = {
  /**
   * The schedule's run hands its month to qualification-check:<month>, which tells the merchant
   * of a business licence expiring in 10 days and opens a case for a food licence expired yesterday.
   */
  async 'qualification-check'(stack, merchantId) {
    const { shopId } = await openShop(stack, merchantId);
    const now = new Date(await stack.env.currentTimeMs());
    const dayIn = (days: number) => shanghaiDate(new Date(now.getTime() + days * 86_400_000));
    const qualifications = createQualificationRepository(stack.db);
    const licence = { merchantId, shopId, numberMasked: '****0Y43', validFrom: dayIn(-700), recordedBy: 'ops:olga', verification: 'verified' as const };
    await qualifications.record({ id: `qual_${merchantId}_bl`, kind: 'business_licence', expiresOn: dayIn(10), ...licence });
    await qualifications.record({ id: `qual_${merchantId}_food`, kind: 'food_licence', expiresOn: dayIn(-1), ...licence });
    const scheduledId = `qualification-check-scheduled-${now.toISOString()}`;
    await stack.env.client.workflow.start(QUALIFICATION_CHECK_WORKFLOW_TYPE, {
      workflowId: scheduledId,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ scheduled: true }],
      typedSearchAttributes: [{ key: PROCESS_TYPE, value: QUALIFICATION_CHECK_PROCESS }],
    });
    const month = shanghaiDate(now).slice(0, 7);
    await closedHandle(stack, scheduledId);
    return { 'qualification-check-scheduled-hand-over': scheduledId, 'qualification-check-notified-case-opened': qualificationCheckWorkflowId(month) };
  },
};
Object.assign(scenarios, qualificationScenarios);

const afterSalesScenarios: Record<string, Scenario> = {
  /** A complaint opened 49 hours ago and left unhandled: the scan escalates it and tells ops. */
  async 'after-sales-escalation'(stack, merchantId) {
    const repo = createAfterSalesRepository(stack.db);
    await repo.saveAgent({ id: 'olga', categories: ['apparel'], active: true, by: 'ada' });
    const orderId = `o-${merchantId}`;
    await addOrder(stack.db, { id: orderId, merchantId, category: 'apparel' });
    const createdAt = new Date((await stack.env.currentTimeMs()) - 49 * 3_600_000);
    const order = (await repo.order(orderId)) as TicketOrder;
    await repo.createTicket({ id: `ast_${'a'.repeat(24)}`, kind: 'complaint', order, description: 'parcel arrived crushed', createdBy: 'olga', createdAt, dueAt: new Date(handlingDueAt(createdAt.getTime())) });
    const workflowId = `${afterSalesEscalationWorkflowId()}-replay`;
    await stack.env.client.workflow.execute(AFTER_SALES_ESCALATION_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{}],
      typedSearchAttributes: [{ key: PROCESS_TYPE, value: AFTER_SALES_ESCALATION_PROCESS }],
    });
    return { 'after-sales-escalation-escalated-notified': workflowId };
  },
};
Object.assign(scenarios, afterSalesScenarios);

const fulfilmentScenarios: Record<string, Scenario> = {
  /** One scan that warns an order, records a late one and compensates a silent parcel. */
  async 'fulfilment-scan'(stack, merchantId) {
    const now = Number(await stack.env.currentTimeMs());
    const ago = (hours: number) => new Date(now - hours * 3_600_000).toISOString();
    await publishAndImport(stack.sandbox.state, stack.db, [
      fulfilmentOrder(`o-${merchantId}-soon`, merchantId, { paidAt: ago(47) }),
      fulfilmentOrder(`o-${merchantId}-late`, merchantId, { paidAt: ago(49) }),
      fulfilmentOrder(`o-${merchantId}-silent`, merchantId, { paidAt: ago(90), shippedAt: ago(80), trackingNumber: 'SF-replay' }),
    ]);
    const workflowId = `${fulfilmentScanWorkflowId()}-replay`;
    await stack.env.client.workflow.execute(FULFILMENT_SCAN_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{}],
      typedSearchAttributes: [{ key: PROCESS_TYPE, value: FULFILMENT_SCAN_PROCESS }],
    });
    return { 'fulfilment-scan-warned-late-compensated': workflowId };
  },
};
Object.assign(scenarios, fulfilmentScenarios);

const orderPartitionScenarios: Record<string, Scenario> = {
  /** One run that creates two months beyond the migration's three ahead, and audits them. */
  async 'order-partitions'(stack) {
    const workflowId = `${orderPartitionsWorkflowId()}-replay`;
    await stack.env.client.workflow.execute(ORDER_PARTITIONS_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [{ monthsAhead: 5 }],
      typedSearchAttributes: [{ key: PROCESS_TYPE, value: ORDER_PARTITIONS_PROCESS }],
    });
    return { 'order-partitions-created': workflowId };
  },
};
Object.assign(scenarios, orderPartitionScenarios);

const campaignScenarios: Record<string, Scenario> = {
  /** Three shops closed at two calls a minute: paused by ops after the first page, resumed, then the last page and the summary. */
  async campaign(stack, merchantId) {
    const campaigns = createCampaignService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    const ops = { sub: 'olga', role: 'ops' as const };
    const items = [1, 2, 3].map((i) => ({ shopId: `s-${merchantId}-${i}` }));
    const created = await campaigns.create({ kind: 'close_shops', reason: 'recorded scenario', ratePerMinute: 2, items }, ops);
    await eventually(() => campaigns.view(created.campaignId), (c) => c.progress.done === 2, 30_000);
    await campaigns.pause(created.campaignId, { reason: 'recorded pause' }, ops);
    // Past the gap between pages: the process waits for the resume instead of the next page.
    await stack.env.sleep(2 * MINUTE);
    await campaigns.resume(created.campaignId, {}, ops);
    await eventually(() => campaigns.view(created.campaignId), (c) => c.state === 'completed', 30_000);
    return { 'campaign-paused-resumed-completed': created.workflowId };
  },
};
Object.assign(scenarios, campaignScenarios);

const enforcementScenarios: Record<string, Scenario> = {
  /**
   * An action approved by a second person: withdrawals restricted, 30 orders refunded five a page
   * (one refused: the platform does not know it), paused by ops after a few pages and resumed.
   * And an action rejected by its checker.
   */
  async 'enforcement-actions'(stack, merchantId) {
    const service = createEnforcementService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, updateWaitMs: 10_000 });
    const olga = { sub: 'olga', role: 'ops' as const };
    const pan = { sub: 'pan', role: 'ops' as const };
    const shop = { shopId: `shop-${merchantId}`, merchantId };
    await seedEnforcedShop(stack.db, shop, 30);
    onPlatformFeed(stack.sandbox.state, (await feedOrdersOf(stack.db, shop.shopId)).slice(1));
    const actionId = 'enf_000000000000000000replay';
    await createEnforcementRepository(stack.db).insertAction({ id: actionId, shop_id: shop.shopId, merchant_id: merchantId, reason: 'forged_brand_authorisation', evidence: 'recorded scenario', opened_by: 'olga', workflow_id: enforcementWorkflowId(actionId) });
    stack.sandbox.state.settings.latencyMs = 100;
    try {
      await stack.env.client.workflow.start(ENFORCEMENT_WORKFLOW_TYPE, {
        workflowId: enforcementWorkflowId(actionId),
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
        args: [{ actionId, shopId: shop.shopId, merchantId, openedBy: 'olga', pageSize: 5, pagesPerCall: 1 }],
        typedSearchAttributes: [{ key: PROCESS_TYPE, value: 'enforcement-action' }],
      });
      await service.step(actionId, 'approve', pan);
      await eventually(() => service.view(actionId), (a) => a.progress.done >= 5, 30_000);
      await service.step(actionId, 'pause', olga);
      await service.step(actionId, 'resume', pan);
    } finally {
      stack.sandbox.state.settings.latencyMs = 0;
    }
    // One live action per shop: the second is opened once the first has completed.
    await eventually(() => service.view(actionId), (a) => a.state === 'completed', 30_000);
    const rejected = await service.open({ shopId: shop.shopId, reason: 'counterfeit_goods', evidence: 'recorded scenario, rejected' }, pan);
    await service.step(rejected.actionId, 'reject', olga);
    return { 'enforcement-action-paused-resumed-completed': enforcementWorkflowId(actionId), 'enforcement-action-rejected': rejected.workflowId };
  },
  /**
   * An action whose refund page the platform refuses for good (400: an order id longer than it
   * takes): it waits in needs_attention; ops take the order out and retry; it completes.
   */
  async 'enforcement-attention'(stack, merchantId) {
    const service = createEnforcementService({ db: stack.db, temporal: stack.env.client, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, updateWaitMs: 10_000 });
    const shop = { shopId: `shop-${merchantId}`, merchantId };
    await seedEnforcedShop(stack.db, shop, 12);
    const [template] = (await stack.db('orders').where({ shop_id: shop.shopId }).orderBy('id').limit(1)) as Array<{ id: string }>;
    const longId = `${template!.id}${'x'.repeat(200)}`;
    await stack.db('orders').insert({ ...template, id: longId });
    onPlatformFeed(stack.sandbox.state, await feedOrdersOf(stack.db, shop.shopId));
    const opened = await service.open({ shopId: shop.shopId, reason: 'fraudulent_sales', evidence: 'recorded scenario, a page refused' }, { sub: 'olga', role: 'ops' });
    await service.step(opened.actionId, 'approve', { sub: 'pan', role: 'ops' });
    await eventually(() => service.view(opened.actionId), (a) => a.state === 'needs_attention', 30_000);
    await stack.db('orders').where({ id: longId }).update({ status: 'refunded', refunded_at: new Date() });
    await service.resolveAttention(opened.actionId, { action: 'retry' }, { sub: 'olga', role: 'ops' });
    await eventually(() => service.view(opened.actionId), (a) => a.state === 'completed', 30_000);
    return { 'enforcement-action-needs-attention-retried': opened.workflowId };
  },
};
Object.assign(scenarios, enforcementScenarios);

async function bundleWorkflows(): Promise<string> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: (m) => console.warn(m), error: (m) => console.error(m) },
  });
  const bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'merchant-ops-record-')), 'workflows.js');
  fs.writeFileSync(bundlePath, code);
  return bundlePath;
}

/** The files a multi-workflow scenario writes (single-workflow ones write verification-<name>). */
const FILES_OF: Record<string, string[]> = {
  'shop-lifecycle': ['verification-approved-opens-deposit', 'deposit-account-ladder-restored-closed', 'shop-closure-refunded'],
  'closure-cancelled': ['shop-closure-cancelled'],
  'ladder-paused-by-closure': ['deposit-account-paused-by-closure-resumed'],
  'deposit-closed-final-status': ['deposit-account-closed-final-status'],
  'closure-cancelled-after-record': ['shop-closure-cancelled-after-record'],
  'settlement-and-import': ['order-import-drained', 'monthly-settlement-paid', 'monthly-settlement-rerun'],
  'settlement-final-status': ['monthly-settlement-completed-final-status'],
  'settlement-scheduled': ['monthly-settlement-scheduled-hand-over'],
  'settlement-lanes': ['monthly-settlement-lanes'],
  'violation-cases': ['violation-case-appeal-upheld', 'violation-case-appeal-rejected-expired', 'violation-case-ban'],
  'violation-cases-local-opening': ['violation-case-appeal-upheld-local-opening', 'violation-case-appeal-rejected-expired-local-opening', 'violation-case-ban-local-opening', 'deposit-account-fined-local-closed'],
  'entity-changes': ['entity-change-approved', 'entity-change-rejected'],
  'promotion-closure': ['promotion-closure-owed-refunded'],
  'store-bindings': ['store-binding-youzan-refreshed-revoked-reauthorised-unbound', 'store-binding-taobao-sub-account-refused-bound-unbound'],
  'link-windows': ['link-window-opened-changed-closed', 'link-window-cancelled-before-opening'],
  'qualification-check': ['qualification-check-scheduled-hand-over', 'qualification-check-notified-case-opened'],
  'catalogue-sync': ['catalogue-sync-base-skipped-failed-checks'],
  'catalogue-sync-batch-scans': ['catalogue-sync-base-batch-scans'],
  'after-sales-escalation': ['after-sales-escalation-escalated-notified'],
  'fulfilment-scan': ['fulfilment-scan-warned-late-compensated'],
  'order-partitions': ['order-partitions-created'],
  campaign: ['campaign-paused-resumed-completed'],
  'enforcement-actions': ['enforcement-action-paused-resumed-completed', 'enforcement-action-rejected'],
  'enforcement-attention': ['enforcement-action-needs-attention-retried'],
};

const force = process.argv.includes('--force');

async function main(): Promise<void> {
  process.env.MERCHANT_OPS_WORKFLOW_BUNDLE = await bundleWorkflows();
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  const stack = await startStack({}, { partners });
  try {
    for (const [name, run] of Object.entries(scenarios)) {
      const target = (file: string) => path.join(HISTORIES_DIR, `${file}.json`);
      const wanted = FILES_OF[name] ?? [`verification-${name}`];
      // Histories recorded before a change are what prove the change replay-safe: keep them.
      if (!force && wanted.every((f) => fs.existsSync(target(f)))) {
        console.log(`${name}: kept (npm run record-histories -- --force re-records)`);
        continue;
      }
      const result = await run(stack, `m-replay-${name}`);
      const workflowIds = typeof result === 'string' ? { [`verification-${name}`]: result } : result;
      for (const [file, workflowId] of Object.entries(workflowIds)) {
        const handle = await closedHandle(stack, workflowId);
        const history = await handle.fetchHistory();
        // Re-indented so a re-recording shows up as a readable diff.
        const json = `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`;
        fs.writeFileSync(target(file), json);
        console.log(`${path.relative(process.cwd(), target(file))}: ${history.events?.length} events, ${json.length} bytes`);
      }
    }
  } finally {
    await stack.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
