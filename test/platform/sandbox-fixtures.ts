import type { NotificationInput } from '../../platform/types';

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
