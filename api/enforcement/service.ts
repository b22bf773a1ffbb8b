import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Knex } from 'knex';
import { createEnforcementRepository, REFUND_LIST_ORDER, type EnforcementActionRow, type EnforcementRefundRow } from '../../db/repositories/enforcement';
import { createShopRepository } from '../../db/repositories/shops';
import { checkerRefusal, refundProgress, transitionRefusal } from '../../domain/enforcement';
import { ProcessAlreadyRunning } from '../../domain/errors';
import {
  approveEnforcementUpdate,
  enforcementActionProcess,
  enforcementStateQuery,
  enforcementWorkflowId,
  pauseEnforcementUpdate,
  rejectEnforcementUpdate,
  resumeEnforcementUpdate,
  type EnforcementDecision,
  type EnforcementInput,
  type EnforcementView,
} from '../../workflows/enforcement-action.defs';
import { resolveAttentionUpdate, type AttentionOutcome } from '../../workflows/attention.defs';
import type { AttentionBody } from '../attention';
import type { Principal } from '../auth';
import { conflict, forbidden, notFound } from '../errors';
import { pageThrough } from '../pagination';
import { runUpdate, startProcess } from '../process-seam';
import type { ActionView, OpenActionBody, RefundListQuery } from './schemas';

export interface EnforcementServiceDeps {
  db: Knex;
  temporal: Client;
  taskQueue: string;
  updateWaitMs: number;
}

const newActionId = () => `enf_${randomBytes(12).toString('hex')}`;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

type Step = 'approve' | 'reject' | 'pause' | 'resume';
const UPDATES: Record<Step, UpdateDefinition<EnforcementView, [EnforcementDecision]>> = {
  approve: approveEnforcementUpdate,
  reject: rejectEnforcementUpdate,
  pause: pauseEnforcementUpdate,
  resume: resumeEnforcementUpdate,
};

function refundViewOf(r: EnforcementRefundRow) {
  return {
    orderId: r.order_id,
    amountFen: Number(r.amount_fen),
    state: r.state,
    platformRefundId: r.platform_refund_id,
    reasonCode: r.reason_code,
    refundedAt: iso(r.refunded_at),
    recordedAt: iso(r.recorded_at)!,
  };
}

/** Enforcement actions between HTTP, the database and their process (docs/rules.md §5.5). */
export function createEnforcementService({ db, temporal, taskQueue, updateWaitMs }: EnforcementServiceDeps) {
  const actions = createEnforcementRepository(db);
  const shops = createShopRepository(db);

  async function load(actionId: string): Promise<EnforcementActionRow> {
    const row = await actions.find(actionId);
    if (!row) throw notFound(`enforcement action ${actionId} does not exist`);
    return row;
  }

  async function view(actionId: string): Promise<ActionView> {
    const row = await load(actionId);
    const counts = await actions.counts(row.id, row.shop_id);
    const open = row.state === 'completed' || row.state === 'rejected' ? 0 : counts.open;
    return {
      actionId: row.id,
      shopId: row.shop_id,
      merchantId: row.merchant_id,
      reason: row.reason,
      evidence: row.evidence,
      state: row.state,
      openedBy: row.opened_by,
      openedAt: iso(row.opened_at)!,
      approvedBy: row.approved_by,
      approvedAt: iso(row.approved_at),
      rejectedBy: row.rejected_by,
      workflowId: row.workflow_id,
      finishedAt: iso(row.finished_at),
      attention: row.attention_step ? { step: row.attention_step, error: row.attention_error ?? '', since: iso(row.attention_since)! } : null,
      progress: refundProgress({ total: counts.refunded + counts.refused + open, refunded: counts.refunded, refused: counts.refused }),
    };
  }

  return {
    /** Records the action awaiting approval and starts its process, which waits for a checker. */
    async open(body: OpenActionBody, principal: Principal): Promise<ActionView> {
      const shop = await shops.find(body.shopId);
      if (!shop) throw notFound(`shop ${body.shopId} does not exist`);
      const actionId = newActionId();
      const workflowId = enforcementWorkflowId(actionId);
      const input: EnforcementInput = { actionId, shopId: shop.id, merchantId: shop.merchant_id, openedBy: principal.sub };
      await startProcess(temporal, {
        process: enforcementActionProcess,
        workflowId,
        taskQueue,
        input,
        conflictPolicy: 'FAIL',
        reusePolicy: 'REJECT_DUPLICATE',
        searchAttributes: { status: 'awaiting_approval', merchantId: shop.merchant_id },
        about: { merchant: shop.merchant_id, shop: shop.id, case: actionId, note: body.reason },
        record: {
          db,
          what: 'the enforcement action',
          // One live action per shop (a second would only race the first for the same orders):
          // a repeat answers 409 with the one already live.
          write: async (trx) => {
            const written = createEnforcementRepository(trx);
            const live = await written.liveActionOf(shop.id, trx);
            if (live) throw new ProcessAlreadyRunning(live.workflow_id);
            await written.insertAction({ id: actionId, shop_id: shop.id, merchant_id: shop.merchant_id, reason: body.reason, evidence: body.evidence, opened_by: principal.sub, workflow_id: workflowId });
          },
          undo: (undoDb) => createEnforcementRepository(undoDb).deleteAction(actionId),
        },
      });
      return view(actionId);
    },

    /**
     * Approve, reject, pause or resume through the process. Maker ≠ checker and the state are
     * checked here first for a plain answer; the process checks both again (its validator), and
     * the database's CHECK a last time.
     */
    async step(actionId: string, step: Step, principal: Principal): Promise<ActionView> {
      const row = await load(actionId);
      if (step === 'approve' || step === 'reject') {
        const sameCheck = checkerRefusal(row.opened_by, principal.sub);
        if (sameCheck) throw forbidden(sameCheck);
      }
      const wrongState = transitionRefusal(row.state, step);
      if (wrongState) throw conflict(wrongState, { state: row.state });
      await runUpdate(temporal.workflow.getHandle(row.workflow_id), {
        update: UPDATES[step],
        args: [{ by: principal.sub }],
        stateQuery: enforcementStateQuery,
        waitMs: updateWaitMs,
        what: `the ${step} of enforcement action ${actionId}`,
        whenEnded: `enforcement action ${actionId} has ended (${row.state})`,
        refusalExtra: { state: row.state },
      });
      return view(actionId);
    },

    view,

    /** Ops answer an action waiting in needs_attention: run the refused step again (abandoning is refused: the refunds must be made). */
    async resolveAttention(actionId: string, body: AttentionBody, principal: Principal) {
      const row = await load(actionId);
      if (row.state !== 'needs_attention') throw conflict(`the action is ${row.state}: nothing waits for ops`, { state: row.state });
      const handle = temporal.workflow.getHandle(row.workflow_id);
      const outcome: AttentionOutcome = await runUpdate(handle, {
        update: resolveAttentionUpdate,
        args: [{ action: body.action, note: body.note, actor: principal.sub }],
        stateQuery: enforcementStateQuery,
        waitMs: updateWaitMs,
        what: `ops' answer to enforcement action ${actionId}`,
        whenEnded: `enforcement action ${actionId} has ended: nothing waits for ops`,
        refusalExtra: { state: row.state },
      });
      const shown = await handle.query(enforcementStateQuery).catch(() => undefined);
      return { ...outcome, status: shown?.state ?? null };
    },

    async refunds(actionId: string, query: RefundListQuery) {
      await load(actionId);
      const { state, cursor, limit } = query;
      return pageThrough({ list: 'enforcement-refunds', filters: { actionId, state } }, REFUND_LIST_ORDER, { cursor, limit }, (after, n) => actions.refundPage({ actionId, state }, after, n), refundViewOf);
    },
  };
}

export type EnforcementService = ReturnType<typeof createEnforcementService>;
