import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  uuid4,
  workflowInfo,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { DepositActivities } from '../activities/deposits';
import { restrictionsAfter } from '../domain/deposit';
import { ErrorType } from '../domain/errors';
import { attentionGate } from './attention';
import type { Attention } from './attention.defs';
import { businessStatus } from './business-status';
import {
  closePromotionUpdate,
  closureSignal,
  deductUpdate,
  reverseDeductionUpdate,
  depositStateQuery,
  promotionClosedSignal,
  requirementChangedSignal,
  topUpUpdate,
  withdrawPromotionExcessUpdate,
  type DepositAccountInput,
  type DepositCarriedState,
  type DepositState,
  type MovementResult,
  type TopUpRequest,
} from './deposit-account.defs';

// Ledger and database work: retried until the database answers; business refusals
// (insufficient balance, a reused key) are non-retryable and reach the caller.
const LEDGER_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ErrorType.InsufficientBalance, ErrorType.LedgerKeyConflict, ErrorType.PlatformRejected],
  },
};
const ledger = proxyActivities<DepositActivities>(LEDGER_OPTIONS);

// A fine is one ledger transaction, and cases fine by the hundred when a risk scan opens them:
// as a local activity it runs inside the update's workflow task, with no activity task round
// trip and one marker in the history instead of a scheduled/started/completed triple.
const localLedger = proxyLocalActivities<DepositActivities>(LEDGER_OPTIONS);
// From this change on a fine is posted by a local activity; histories from before it replay theirs.
const FINES_LOCAL = 'fines-local-activity';

// Ladder steps call the platform: a slower backoff, same idempotency keys on every try.
const ladder = proxyActivities<DepositActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', nonRetryableErrorTypes: [ErrorType.PlatformRejected] },
});

// From this change on a top-up credits only a payment confirmed by its source; histories
// from before it posted the amount the caller claimed, and replay that way.
const CONFIRMED_PAYMENTS_ONLY = 'confirmed-payments-only';
// From this change on a fine above the balance is owed in full (the ledger's receivable).
const OWED_FINES = 'owed-fines';

// From this change a closure pauses the shortfall episode instead of ending it: the ladder's
// restrictions stay in force (withdrawals stay restricted while the deposit is short) and a
// cancelled closure resumes the same episode on its own schedule. Histories from before it
// ended the episode when the closure started, and replay that way.
const LADDER_PAUSES_FOR_CLOSURE = 'ladder-episode-pauses-for-closure';

// From this change a money movement that lands while a ladder step runs makes the loop read
// the balances again after the step, instead of taking the step's (possibly older) reading.
const LADDER_STEP_RELOADS_AFTER_MOVEMENT = 'ladder-step-reloads-after-movement';

// Well below the 51,200-event limit, and small enough that a replay stays quick.
const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;

/**
 * The deposit account of one shop, for the shop's whole life. It applies top-ups and
 * deductions (through the ledger, idempotently), and whenever the balance falls below the
 * requirement it walks the shortfall ladder of docs/rules.md §2: notify, transfer
 * sales proceeds, then restrictions on a schedule computed from config. A balance that
 * is whole again lifts every restriction at once and closes the episode.
 */
export async function depositAccount(input: DepositAccountInput): Promise<{ status: 'closed' }> {
  const { shopId, merchantId } = input;
  // Handlers are set before the first await: an update that arrives with the start would
  // otherwise find no handler and be refused.
  const state: DepositCarriedState = input.carried ?? {
    balanceFen: 0,
    promotionBalanceFen: 0,
    requiredFen: 0,
    episode: null,
    status: 'open',
    funded: false,
    promotionClosed: false,
    owedFen: 0,
  };
  let dirty = false;
  // Counts the movements the handlers applied: a step that saw it change read older balances.
  let movements = 0;
  const status = businessStatus(state);
  const wake = () => {
    dirty = true;
  };
  const apply = (r: Pick<MovementResult, 'balanceFen' | 'promotionBalanceFen' | 'owedFen'>) => {
    state.balanceFen = r.balanceFen;
    state.promotionBalanceFen = r.promotionBalanceFen;
    movements += 1;
    state.owedFen = r.owedFen ?? 0;
    wake();
  };
  // The deposit is whole only when it covers the requirement and nothing is owed.
  const owed = () => state.owedFen ?? 0;
  const snapshot = (): DepositState => ({
    ...state,
    shopId,
    merchantId,
    restrictions: state.episode ? restrictionsAfter(state.episode.stepsDone) : [],
    attention,
  });

  // A step of the account's own loop that the database refuses for good waits for ops to
  // retry it (after fixing the data); there is nothing to abandon in a shop's deposit. The
  // updates' own steps need no gate: a refused movement fails its update and changes nothing.
  let attention: Attention | null = null;
  const gate = attentionGate(() => status.shown(), {
    async enter(waiting) {
      attention = waiting;
      status.needsAttention();
    },
    async leave() {
      attention = null;
      wake();
    },
  });

  setHandler(depositStateQuery, snapshot);
  setHandler(
    topUpUpdate,
    async (req) => {
      if (patched(CONFIRMED_PAYMENTS_ONLY)) {
        const credited = await ledger.creditPayment({ shopId, paymentId: req.paymentId, account: req.account, amountFen: req.amountFen, actor: req.actor });
        apply(credited);
        return { ...credited, requiredFen: state.requiredFen };
      }
      const reference = req.paymentReference ?? req.paymentId;
      const account = req.account ?? 'deposit';
      const result = await ledger.postMovement({
        shopId,
        kind: 'top_up',
        account,
        amountFen: req.amountFen ?? 0,
        idempotencyKey: `topup:${shopId}:${reference}`,
        reason: `top-up (payment ${reference})`,
        actor: req.actor,
      });
      apply(result);
      return { ...result, requiredFen: state.requiredFen, paymentId: reference, account, creditedFen: req.amountFen ?? 0 };
    },
    { validator: (req) => assertTopUp(state.status !== 'closed', `shop ${shopId} is closed`, req) },
  );
  setHandler(
    deductUpdate,
    async (req) => {
      if (req.owing && patched(OWED_FINES)) {
        const { account, amountFen, reason, actor } = req;
        const post = patched(FINES_LOCAL) ? localLedger : ledger;
        const owing = await post.deductOwing({ shopId, account, amountFen, idempotencyKey: `deduction:${shopId}:${req.reference}`, reason, actor });
        apply(owing);
        return { ...owing, requiredFen: state.requiredFen };
      }
      const result = await ledger.postMovement({
        shopId,
        kind: 'deduction',
        account: req.account,
        amountFen: req.amountFen,
        idempotencyKey: `deduction:${shopId}:${req.reference}`,
        reason: req.reason,
        actor: req.actor,
      });
      apply(result);
      return { ...result, requiredFen: state.requiredFen };
    },
    { validator: (req) => assertOpen(state.status !== 'closed', `shop ${shopId} is closed`, req.amountFen) },
  );
  setHandler(
    reverseDeductionUpdate,
    async (req) => {
      const result = await ledger.reverseDeduction({ shopId, deductionReference: req.deductionReference, reason: req.reason, actor: req.actor });
      apply(result);
      return { ...result, requiredFen: state.requiredFen };
    },
    { validator: (_req) => assertOpen(state.status !== 'closed', `shop ${shopId} is closed`) },
  );
  setHandler(
    closePromotionUpdate,
    async ({ actor }) => {
      const outcome = await ledger.closePromotion({ shopId, merchantId, reference: uuid4(), actor });
      if (outcome.done) state.promotionClosed = true;
      apply(await ledger.balances({ shopId }));
      return outcome;
    },
    { validator: (_req: { actor: string }) => assertOpen(!state.promotionClosed, `third-party promotion of shop ${shopId} is already closed`) },
  );
  setHandler(
    withdrawPromotionExcessUpdate,
    async ({ actor }) => {
      const outcome = await ledger.withdrawPromotionExcess({ shopId, reference: uuid4(), actor, asOf: new Date().toISOString() });
      apply(await ledger.balances({ shopId }));
      return outcome;
    },
    { validator: (_req: { actor: string }) => assertOpen(state.status === 'open', `shop ${shopId} is ${state.status}`) },
  );
  setHandler(promotionClosedSignal, (balances) => {
    state.promotionClosed = true;
    apply(balances);
  });
  setHandler(requirementChangedSignal, (change) => {
    state.requiredFen = change.requiredFen;
    wake();
  });
  setHandler(closureSignal, (event) => {
    state.status = event.event === 'started' ? 'closing' : event.event === 'cancelled' ? 'open' : 'closed';
    if (event.balanceFen !== undefined) state.balanceFen = event.balanceFen;
    if (event.promotionBalanceFen !== undefined) state.promotionBalanceFen = event.promotionBalanceFen;
    wake();
  });

  if (!input.carried) {
    const opened = await gate.run('open deposit account', () =>
      ledger.openDepositAccount({
        shopId,
        merchantId,
        shopType: input.shopType,
        asOf: new Date().toISOString(),
      }),
    );
    // Movements may already have landed while the account was being opened.
    state.requiredFen = opened.requiredFen;
    state.balanceFen = opened.balanceFen;
    state.promotionBalanceFen = opened.promotionBalanceFen;
  }

  for (;;) {
    dirty = false;
    const short = state.balanceFen - owed() < state.requiredFen;
    if (!short) state.funded = true;
    // A closing shop that is still short keeps its episode (and its restrictions), paused.
    const paused = state.episode !== null && short && state.status === 'closing' && patched(LADDER_PAUSES_FOR_CLOSURE);
    if (state.episode && (!short || state.status !== 'open') && !paused) {
      // Whole again, or the shop closed: lift at once.
      const reason = short ? `shop_${state.status}` : 'restored';
      const episodeId = state.episode.id;
      await gate.run('end shortfall episode', () => ladder.endEpisode({ shopId, merchantId, episodeId, reason, balanceFen: state.balanceFen }));
      state.episode = null;
    } else if (!state.episode && short && state.funded && state.status === 'open') {
      const startedAt = new Date().toISOString();
      const episodeId = `${shopId}:${startedAt}`;
      const { schedule } = await gate.run('start shortfall episode', () =>
        ladder.startEpisode({
          shopId,
          episodeId,
          startedAt,
          requiredFen: state.requiredFen,
          balanceFen: state.balanceFen,
        }),
      );
      state.episode = { id: episodeId, startedAt, schedule, stepsDone: [] };
    }
    if (state.status === 'closed') break;

    // Steps run only while the shop is open; a paused episode's due steps run once it reopens,
    // its days still counted from its real start.
    const due = state.status === 'open' ? state.episode?.schedule.find((s) => !state.episode!.stepsDone.includes(s.step)) : undefined;
    if (state.episode && due && Date.parse(due.at) <= Date.now()) {
      const episodeId = state.episode.id;
      const movementsBefore = movements;
      const result = await gate.run(`ladder step ${due.step}`, () =>
        ladder.runLadderStep({
          shopId,
          merchantId,
          episodeId,
          step: due.step,
          shortfallFen: Math.max(0, state.requiredFen + owed() - state.balanceFen),
          requiredFen: state.requiredFen,
        }),
      );
      // A step that found the balance whole did nothing: the loop ends the episode next.
      if (result.skipped !== 'balance_restored') state.episode.stepsDone.push(due.step);
      if (movements !== movementsBefore && patched(LADDER_STEP_RELOADS_AFTER_MOVEMENT)) apply(await ladder.balances({ shopId }));
      else apply(result);
      continue;
    }
    status.showDerived(state.status !== 'open' ? state.status : state.episode ? 'shortfall' : state.funded ? 'open' : 'awaiting_deposit');

    const limit = input.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > limit) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof depositAccount>({ ...input, carried: { ...state } });
    }
    if (due) await condition(() => dirty, Math.max(1, Date.parse(due.at) - Date.now()));
    else await condition(() => dirty);
  }

  await condition(allHandlersFinished);
  status.final('closed');
  return { status: 'closed' };
}

function assertTopUp(ok: boolean, message: string, req: TopUpRequest): void {
  assertOpen(ok, message, req.amountFen);
  if (typeof req.paymentId !== 'string' || req.paymentId.length === 0) throw new Error('a top-up names the payment it credits');
}

function assertOpen(ok: boolean, message: string, amountFen?: number): void {
  if (!ok) throw new Error(message);
  if (amountFen !== undefined && (!Number.isSafeInteger(amountFen) || amountFen <= 0)) {
    throw new Error('amountFen must be a positive whole number of fen');
  }
}
