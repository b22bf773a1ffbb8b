import type { FeedOrder } from '../../platform/types';
import type { Stack } from './stack';

/** Appends order states to the sandbox's order feed through its control path, as dev does with curl. */
export async function appendToFeed(stack: Stack, orders: FeedOrder[]): Promise<void> {
  const res = await fetch(`${stack.sandbox.url}/v1/_orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${stack.config.PLATFORM_API_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ orders }),
  });
  if (res.status !== 201) throw new Error(`the sandbox refused the feed events: ${res.status} ${await res.text()}`);
}
