import type { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import type { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

const GRPC_ALREADY_EXISTS = 6;
const GRPC_UNIMPLEMENTED = 12;

/**
 * Registers our custom search attributes in the namespace. Safe to repeat. The dev
 * server applies them asynchronously, so wait until they are listed (the
 * time-skipping test server applies at once and cannot list them).
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: ReadonlyArray<{ name: string; type: SearchAttributeType }> = CUSTOM_SEARCH_ATTRIBUTES,
  timeoutMs = 30_000,
): Promise<void> {
  const wanted = Object.fromEntries(keys.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]));
  const missing = async (): Promise<string[] | undefined> => {
    try {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      return Object.keys(wanted).filter((name) => !(name in listed.customAttributes));
    } catch (err) {
      if ((err as { code?: number }).code === GRPC_UNIMPLEMENTED) return undefined;
      throw err;
    }
  };

  const before = await missing();
  if (before !== undefined && before.length === 0) return;
  const toAdd = before === undefined ? wanted : Object.fromEntries(before.map((name) => [name, wanted[name]]));
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: toAdd });
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
  }
  if (before === undefined) return;

  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const still = await missing();
    if (!still || still.length === 0) return;
    if (Date.now() > giveUpAt) throw new Error(`search attributes not registered in time: ${still.join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
