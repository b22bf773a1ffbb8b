import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ErrorType } from '../../domain/errors';
import { refusal } from '../../domain/partner-binding';
import {
  bindingStateQuery,
  oauthCallbackUpdate,
  unbindUpdate,
  unionAuthorisationUpdate,
  type GrantReceived,
  type StoreBindingInput,
  type StoreBindingState,
} from '../../workflows/store-binding.defs';
import { DAY, skipToResult, startFastEnv, statusesOf, type FastEnv } from './support';

const GRANT: GrantReceived = { refreshSecretId: 'sec-1', level: 'basic', accessExpiresInSeconds: 7 * 86_400, refreshExpiresInSeconds: 28 * 86_400, refreshLeadSeconds: 86_400 };

describe('storeBinding branching (stub activities, time-skipping)', () => {
  let fast: FastEnv;
  const unionAnswers: Array<ReturnType<typeof refusal> | null> = [];
  let refreshAnswer: () => GrantReceived = () => GRANT;
  let exchangeAnswer: () => GrantReceived = () => GRANT;
  beforeAll(async () => {
    fast = await startFastEnv({
      checkUnionAuthorisation: async () => ({ refusal: unionAnswers.shift() ?? null }),
      exchangeYouzanCode: async () => exchangeAnswer(),
      refreshYouzanToken: async () => refreshAnswer(),
      recordBindingBound: async () => undefined,
      markNeedsReauth: async () => undefined,
      endBinding: async () => undefined,
      takeDownBindingLinks: async () => ({ calls: 0, takenDown: 0 }),
      recordAuthorisationExpired: async () => undefined,
    });
  });
  afterAll(async () => {
    await fast?.teardown();
  });

  const start = async (storeId: string, platform: StoreBindingInput['platform'], extra: Partial<StoreBindingInput> = {}) => {
    const input: StoreBindingInput = { bindingId: `bnd-${storeId}`, merchantId: 'm-1', shopId: 'shop-m-1', platform, storeId, requestedBy: 'u-m-1', ...extra };
    const handle = await fast.client.workflow.start('storeBinding', { taskQueue: fast.taskQueue, workflowId: `binding:${platform}:${storeId}`, args: [input] });
    await fast.until(() => handle.query(bindingStateQuery), (s) => s.status === 'authorising');
    return handle;
  };
  const callsFor = (name: string, storeId: string) => fast.stubs.inputsOf(name).filter((i) => (i as { bindingId: string }).bindingId === `bnd-${storeId}`);

  test('an authorisation left unfinished for 7 days ends the run as refused', async () => {
    const handle = await start('tb-idle', 'taobao');
    await fast.env.sleep(7 * DAY - 60_000);
    expect((await handle.query(bindingStateQuery)).status).toBe('authorising');
    const final = await skipToResult<StoreBindingState>(fast, handle);
    expect(final.status).toBe('refused');
    expect(callsFor('recordAuthorisationExpired', 'tb-idle')).toHaveLength(1);
    expect(await statusesOf(fast, handle.workflowId)).toEqual({ execution: 'COMPLETED', business: 'refused' });
  });

  test("a union check's refusal fails the update with its name and the binding keeps waiting; the next one binds", async () => {
    const handle = await start('tb-sub', 'taobao');
    unionAnswers.push(refusal('sub_account_authorisation'));
    const refused = await handle.executeUpdate(unionAuthorisationUpdate, { args: [{ bindingId: 'bnd-tb-sub', actor: 'u-m-1' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (refused as WorkflowUpdateFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(ErrorType.BindingRefused);
    expect(cause.details?.[0]).toMatchObject({ code: 'sub_account_authorisation' });
    expect((await handle.query(bindingStateQuery)).status).toBe('authorising');

    const bound = await handle.executeUpdate(unionAuthorisationUpdate, { args: [{ bindingId: 'bnd-tb-sub', actor: 'u-m-1' }] });
    expect(bound.status).toBe('bound');
    expect(callsFor('recordBindingBound', 'tb-sub')).toHaveLength(1);
    // A union binding has no token: nothing to refresh, whatever time passes.
    await fast.env.sleep(30 * DAY);
    expect(callsFor('refreshYouzanToken', 'tb-sub')).toHaveLength(0);
    const oauth = await handle.executeUpdate(oauthCallbackUpdate, { args: [{ bindingId: 'bnd-tb-sub', codeSecretId: 'sec-x', actor: 'x' }] }).catch((e: unknown) => e);
    expect(oauth).toBeInstanceOf(WorkflowUpdateFailedError);

    await handle.executeUpdate(unbindUpdate, { args: [{ bindingId: 'bnd-tb-sub', by: 'merchant', actor: 'u-m-1', reason: 'done' }] });
    expect((await skipToResult<StoreBindingState>(fast, handle)).status).toBe('unbound');
  });

  test('Youzan: refreshed a day before expiry; revoked → needs_reauth (sync off) until authorised again; unbound by enforcement', async () => {
    const handle = await start('yz-1', 'youzan');
    const boundAt = await fast.now();
    await handle.executeUpdate(oauthCallbackUpdate, { args: [{ bindingId: 'bnd-yz-1', codeSecretId: 'code-1', actor: 'youzan-callback' }] });
    await fast.env.sleep(6 * DAY - 60_000);
    expect(callsFor('refreshYouzanToken', 'yz-1')).toHaveLength(0);
    await fast.env.sleep(2 * 60_000);
    const refreshed = await fast.until(() => handle.query(bindingStateQuery), (s) => s.grant?.refreshedTimes === 1);
    expect(Date.parse(refreshed.grant!.refreshAt)).toBeGreaterThanOrEqual(boundAt + 12 * DAY);

    refreshAnswer = () => {
      throw ApplicationFailure.create({ message: 'refused', type: ErrorType.PartnerAuthorisationRevoked, nonRetryable: true });
    };
    await fast.env.sleep(6 * DAY);
    const waiting = await fast.until(() => handle.query(bindingStateQuery), (s) => s.status === 'needs_reauth');
    expect(waiting).toMatchObject({ reauthReason: 'revoked', grant: null });
    expect(callsFor('markNeedsReauth', 'yz-1')).toEqual([expect.objectContaining({ reason: 'revoked' })]);
    expect((await statusesOf(fast, handle.workflowId)).business).toBe('needs_reauth');
    // Waiting for the merchant: no timer, no retry.
    const attempts = callsFor('refreshYouzanToken', 'yz-1').length;
    await fast.env.sleep(20 * DAY);
    expect(callsFor('refreshYouzanToken', 'yz-1')).toHaveLength(attempts);

    refreshAnswer = () => GRANT;
    const again = await handle.executeUpdate(oauthCallbackUpdate, { args: [{ bindingId: 'bnd-yz-1', codeSecretId: 'code-2', actor: 'youzan-callback' }] });
    expect(again.status).toBe('bound');
    await handle.signal('unbind', { bindingId: 'bnd-yz-1', by: 'enforcement', actor: 'enforcement', reason: 'violation' });
    const final = await skipToResult<StoreBindingState>(fast, handle);
    expect(final).toMatchObject({ status: 'unbound', unboundBy: 'enforcement' });
    expect(callsFor('endBinding', 'yz-1')).toEqual([expect.objectContaining({ by: 'enforcement' })]);
    // Its outside links come down once the row says unbound.
    expect(callsFor('takeDownBindingLinks', 'yz-1')).toEqual([{ bindingId: 'bnd-yz-1', reason: 'store-binding:bnd-yz-1 unbound' }]);
  });

  test("a message naming another binding of the store is refused by the validator: an old id never acts on this run", async () => {
    const handle = await start('tb-stale', 'taobao');
    const stale = await handle.executeUpdate(unbindUpdate, { args: [{ bindingId: 'bnd-earlier', by: 'merchant', actor: 'u-m-1', reason: 'old' }] }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((stale as WorkflowUpdateFailedError).cause?.message)).toContain('this binding has ended');
    const staleAuth = await handle.executeUpdate(unionAuthorisationUpdate, { args: [{ bindingId: 'bnd-earlier', actor: 'u-m-1' }] }).catch((e: unknown) => e);
    expect(staleAuth).toBeInstanceOf(WorkflowUpdateFailedError);
    await handle.signal('unbind', { bindingId: 'bnd-earlier', by: 'enforcement', actor: 'enforcement', reason: 'old' });
    expect((await handle.query(bindingStateQuery)).status).toBe('authorising');
    await handle.executeUpdate(unbindUpdate, { args: [{ bindingId: 'bnd-tb-stale', by: 'merchant', actor: 'u-m-1', reason: 'done' }] });
  });

  test('an exchange whose retries are spent gives up within its bound: ops see needs_attention, the binding keeps waiting, a later callback binds', async () => {
    const handle = await start('yz-stuck', 'youzan');
    exchangeAnswer = () => {
      throw new Error('partner down');
    };
    const pending = handle.executeUpdate(oauthCallbackUpdate, { args: [{ bindingId: 'bnd-yz-stuck', codeSecretId: 'code-s', actor: 'youzan-callback' }] }).catch((e: unknown) => e);
    // Skip only once the update is running: time skipped before it arrives would leave its
    // retries' backoff to pass in real time (the server locks skipping again after a sleep).
    await fast.until(async () => callsFor('exchangeYouzanCode', 'yz-stuck').length, (n) => n > 0);
    await fast.env.sleep(31 * 60_000);
    expect(await pending).toBeInstanceOf(WorkflowUpdateFailedError);
    const stuck = await fast.until(() => handle.query(bindingStateQuery), (s) => s.attention !== null);
    expect(stuck).toMatchObject({ status: 'authorising', attention: { step: 'exchangeYouzanCode' } });
    expect((await statusesOf(fast, handle.workflowId)).business).toBe('needs_attention');
    exchangeAnswer = () => GRANT;
    const bound = await handle.executeUpdate(oauthCallbackUpdate, { args: [{ bindingId: 'bnd-yz-stuck', codeSecretId: 'code-t', actor: 'youzan-callback' }] });
    expect(bound).toMatchObject({ status: 'bound', attention: null });
    await handle.executeUpdate(unbindUpdate, { args: [{ bindingId: 'bnd-yz-stuck', by: 'merchant', actor: 'u-m-1', reason: 'done' }] });
  });

  test('continue-as-new carries the whole state: reauthReason, lastRefusal and the rest', async () => {
    const handle = await start('yz-can', 'youzan', { historyLimit: 1 });
    const first = (await handle.describe()).runId;
    refreshAnswer = () => GRANT;
    await handle.executeUpdate(oauthCallbackUpdate, { args: [{ bindingId: 'bnd-yz-can', codeSecretId: 'code-c', actor: 'youzan-callback' }] });
    refreshAnswer = () => {
      throw ApplicationFailure.create({ message: 'refused', type: ErrorType.PartnerAuthorisationRevoked, nonRetryable: true });
    };
    await fast.env.sleep(7 * DAY);
    const carried = await fast.until(
      async () => ({ run: (await fast.client.workflow.getHandle(handle.workflowId).describe()).runId, state: await fast.client.workflow.getHandle(handle.workflowId).query(bindingStateQuery) }),
      (x) => x.run !== first && x.state.status === 'needs_reauth',
    );
    expect(carried.state).toMatchObject({ bindingId: 'bnd-yz-can', status: 'needs_reauth', reauthReason: 'revoked', grant: null, unboundBy: null });
    refreshAnswer = () => GRANT;
    const latest = fast.client.workflow.getHandle(handle.workflowId);
    await latest.executeUpdate(unbindUpdate, { args: [{ bindingId: 'bnd-yz-can', by: 'merchant', actor: 'u-m-1', reason: 'done' }] });
    expect((await latest.query(bindingStateQuery)).unboundBy).toBe('merchant');
  });
});
