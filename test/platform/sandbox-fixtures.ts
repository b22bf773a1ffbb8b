import { ApplicationFailure } from '@temporalio/common';
import type { Express } from 'express';
import request from 'supertest';
import type { ShopFixtures } from '../../platform/sandbox';
import type { NotificationInput, ProceedsTransferInput, ProductsChange, RefundInput, RestrictionsChange } from '../../platform/types';

export const TOKEN = 'test-token';
export const AUTH = { Authorization: `Bearer ${TOKEN}` };

export function aNotification(overrides: Partial<NotificationInput> = {}): NotificationInput {
  return {
    recipient: 'merchant',
    merchantId: 'm-1001',
    template: 'deposit_shortfall',
    data: { shortfallFen: 150_000, deadline: '2025-03-01' },
    ...overrides,
  };
}

export function aRestrictionsChange(overrides: Partial<RestrictionsChange> = {}): RestrictionsChange {
  return { action: 'apply', restrictions: ['close_cart'], reason: 'deposit_shortfall:case-1', ...overrides };
}

export function aProductsChange(overrides: Partial<ProductsChange> = {}): ProductsChange {
  return { productIds: ['p-1'], reason: 'price_violation:case-1', ...overrides };
}

export function aProceedsTransfer(overrides: Partial<ProceedsTransferInput> = {}): ProceedsTransferInput {
  return { maxAmountFen: 150_000, purpose: 'deposit_top_up:case-1', ...overrides };
}

export function aRefund(overrides: Partial<RefundInput> = {}): RefundInput {
  return { shopId: 's-1001', account: 'deposit', amountFen: 50_000, reference: 'closure:s-1001', ...overrides };
}

/** Sets a shop's fixtures through the control route, failing the test if the sandbox refuses. */
export async function putShop(app: Express, shopId: string, fixtures: ShopFixtures): Promise<void> {
  await request(app).put(`/v1/_shops/${encodeURIComponent(shopId)}`).set(AUTH).send(fixtures).expect(200);
}

/** The ApplicationFailure a client call rejects with (anything else fails the test). */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  return err;
}
