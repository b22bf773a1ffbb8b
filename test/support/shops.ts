import { checkInvariants, createLedger } from '../../db/repositories/ledger';
import { shopForUpdate, type SandboxShop } from '../../platform/sandbox/state';
import { depositStateQuery, depositWorkflowId, type DepositState } from '../../workflows/deposit-account.defs';
import { verificationStateQuery } from '../../workflows/verification.defs';
import type { Principal } from '../../api/auth';
import { eventually, individualRequest } from './fixtures';
import type { Stack } from './stack';

export const ops: Principal = { sub: 'olga', role: 'ops' };
export const finance: Principal = { sub: 'fei', role: 'finance' };
export const reviewer: Principal = { sub: 'rui', role: 'reviewer' };
export const merchantOf = (merchantId: string): Principal => ({ sub: `u-${merchantId}`, role: 'merchant', merchantId });

/** A verified individual merchant whose shop's deposit process is running (not yet funded). */
export async function openShop(stack: Stack, merchantId: string): Promise<{ shopId: string }> {
  const started = await stack.verifications.start(individualRequest(merchantId), merchantOf(merchantId), new Date(await stack.env.currentTimeMs()));
  await eventually(() => stack.env.client.workflow.getHandle(started.workflowId).query(verificationStateQuery), (s) => s.deadline !== null);
  await stack.verifications.decide(started.caseId, { decision: 'approve', reasons: [] }, reviewer);
  const shopId = `shop-${merchantId}`;
  await depositState(stack, shopId, (s) => s.requiredFen > 0);
  return { shopId };
}

export function depositState(stack: Stack, shopId: string, done: (s: DepositState) => boolean = () => true): Promise<DepositState> {
  return eventually(
    () => stack.env.client.workflow.getHandle(depositWorkflowId(shopId)).query(depositStateQuery).catch(() => undefined),
    (s): s is DepositState => s !== undefined && done(s),
  ) as Promise<DepositState>;
}

/** The platform's side of a shop (what it was asked to do), and its fixtures. */
export const platformShop = (stack: Stack, shopId: string): SandboxShop => shopForUpdate(stack.sandbox.state, shopId);

/** Never a lost or invented fen: every transaction balances, balances are the sums of entries. */
export async function expectLedgerWhole(stack: Stack, shopId: string): Promise<void> {
  expect(await checkInvariants(stack.db)).toEqual([]);
  const balances = await createLedger(stack.db).balances(shopId);
  const total = Object.values(balances).reduce((a, b) => a + b, 0);
  expect(total).toBe(0);
  const sums = await stack.db('ledger_entries as e')
    .join('ledger_accounts as a', 'a.id', 'e.account_id')
    .where('a.shop_id', shopId)
    .groupBy('a.kind')
    .select('a.kind')
    .sum({ fen: 'e.amount_fen' });
  for (const row of sums as Array<{ kind: keyof typeof balances; fen: string | number }>) expect(Number(row.fen)).toBe(balances[row.kind]);
}
