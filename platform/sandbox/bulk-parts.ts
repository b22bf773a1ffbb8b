import fs from 'node:fs';
import path from 'node:path';
import type { PartnerProduct } from '../partners/types';
import { emptyShopListings } from './listings';
import { parseBulkPartName, type SandboxListing, type SandboxState, type ShopListings } from './state';

/**
 * Partner catalogues and Kuaishou listings can hold a million products, so they are not in the
 * main state file (rewritten on every call): each store's catalogue and each shop's listings is
 * a file of its own in `<state file>.parts/`, one JSON value a line. A catalogue is rewritten
 * when a fixture changed it; a shop's listings file is a journal: a save appends the listings
 * changed since the last one (the last line of a key wins), and is rewritten whole only once the
 * journal holds more than twice the live listings.
 */
export function partsDirectory(stateFile: string): string {
  return `${stateFile}.parts`;
}

/** What one save writes, taken when it starts; a failed write gives it back. */
export interface PendingParts {
  names: string[];
  /** Per shop: the listing keys changed since the last save. */
  listingKeys: Map<string, Set<string>>;
}

export function takePendingParts(state: SandboxState): PendingParts {
  const names = [...state.dirtyBulk];
  state.dirtyBulk.clear();
  const listingKeys = new Map<string, Set<string>>();
  for (const name of names) {
    const part = parseBulkPartName(name);
    const shop = part?.kind === 'listings' ? state.listings.get(part.shopId) : undefined;
    if (part?.kind !== 'listings' || !shop) continue;
    listingKeys.set(part.shopId, shop.unsaved);
    shop.unsaved = new Set();
  }
  return { names, listingKeys };
}

export function givePendingPartsBack(state: SandboxState, pending: PendingParts): void {
  pending.names.forEach((name) => state.dirtyBulk.add(name));
  for (const [shopId, keys] of pending.listingKeys) {
    const shop = state.listings.get(shopId);
    keys.forEach((key) => shop?.unsaved.add(key));
    // What was appended before the failure may be half a line: the next save rewrites the file.
    if (shop) shop.savedLines = Number.POSITIVE_INFINITY;
  }
}

export async function writeParts(state: SandboxState, directory: string, pending: PendingParts): Promise<void> {
  if (pending.names.length === 0) return;
  await fs.promises.mkdir(directory, { recursive: true });
  for (const name of pending.names) {
    const part = parseBulkPartName(name);
    if (!part) continue;
    const file = path.join(directory, `${encodeURIComponent(name)}.ndjson`);
    if (part.kind === 'catalogue') {
      const products = state.partners.catalogues.get(part.storeKey)?.products.values() ?? [];
      await replaceFile(file, mapLines(products, (product) => JSON.stringify(product)));
      continue;
    }
    const shop = state.listings.get(part.shopId);
    if (!shop) continue;
    const changed = pending.listingKeys.get(part.shopId) ?? new Set<string>();
    const live = liveKeys(shop);
    if (shop.savedLines + changed.size <= 2 * Math.max(live.size, 1_000) && fs.existsSync(file)) {
      await appendLines(file, mapLines(changed, (key) => listingLine(shop, key)));
      shop.savedLines += changed.size;
    } else {
      await replaceFile(file, mapLines(live, (key) => listingLine(shop, key)));
      shop.savedLines = live.size;
    }
  }
}

export function readParts(state: SandboxState, directory: string): void {
  if (!fs.existsSync(directory)) return;
  for (const entry of fs.readdirSync(directory)) {
    if (!entry.endsWith('.ndjson')) continue;
    const part = parseBulkPartName(decodeURIComponent(entry.slice(0, -'.ndjson'.length)));
    if (!part) continue;
    const lines = fs.readFileSync(path.join(directory, entry), 'utf8').split('\n').filter((line) => line.length > 0);
    if (part.kind === 'catalogue') {
      const products = new Map<string, PartnerProduct>();
      for (const line of lines) {
        const product = JSON.parse(line) as PartnerProduct;
        products.set(product.productId, product);
      }
      state.partners.catalogues.set(part.storeKey, { products, sortedIds: null });
      continue;
    }
    const shop = emptyShopListings();
    for (const line of lines) {
      const parsed = parseLine(line);
      if (!parsed) continue;
      const [key, listing, heldReason, upserts, changes] = parsed;
      setOrDelete(shop.listings, key, listing);
      setOrDelete(shop.held, key, heldReason);
      setOrDelete(shop.upserts, key, upserts > 0 ? upserts : null);
      setOrDelete(shop.changes, key, changes > 0 ? changes : null);
    }
    shop.savedLines = lines.length;
    state.listings.set(part.shopId, shop);
  }
}

type ListingLine = [key: string, listing: SandboxListing | null, heldReason: string | null, upserts: number, changes: number];

function listingLine(shop: ShopListings, key: string): string {
  const line: ListingLine = [key, shop.listings.get(key) ?? null, shop.held.get(key) ?? null, shop.upserts.get(key) ?? 0, shop.changes.get(key) ?? 0];
  return JSON.stringify(line);
}

// A crash mid-append can leave half a last line: it is skipped, and its change was never answered.
function parseLine(line: string): ListingLine | undefined {
  try {
    return JSON.parse(line) as ListingLine;
  } catch {
    return undefined;
  }
}

function liveKeys(shop: ShopListings): Set<string> {
  return new Set([...shop.listings.keys(), ...shop.held.keys(), ...shop.upserts.keys()]);
}

function setOrDelete<V>(map: Map<string, V>, key: string, value: V | null): void {
  if (value === null) map.delete(key);
  else map.set(key, value);
}

function* mapLines<T>(items: Iterable<T>, line: (item: T) => string): Generator<string> {
  for (const item of items) yield line(item);
}

async function replaceFile(file: string, lines: Iterable<string>): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeLines(temporary, 'w', lines);
  await fs.promises.rename(temporary, file);
}

async function appendLines(file: string, lines: Iterable<string>): Promise<void> {
  await writeLines(file, 'a', lines);
}

async function writeLines(file: string, flags: 'w' | 'a', lines: Iterable<string>): Promise<void> {
  const handle = await fs.promises.open(file, flags);
  try {
    // In chunks: a million products as one string would pass V8's string limit.
    let chunk: string[] = [];
    for (const line of lines) {
      chunk.push(line);
      if (chunk.length === 5_000) {
        await handle.write(`${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) await handle.write(`${chunk.join('\n')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
