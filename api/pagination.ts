import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TIMESTAMP_TEXT, type Position, type SortKey } from '../db/keyset';
import { badRequest } from './errors';

/**
 * Every list pages the same way: `?limit=` (50 unless told, at most 200) and `?cursor=`, the
 * opaque `nextCursor` of the page before, answered as `{ items, nextCursor }` (null on the
 * last page). A cursor is base64url JSON of where the page before ended (its sort key) and a
 * fingerprint of the filters it was made under: it continues that list only, and a cursor
 * sent with other filters is a 400, not a page of some other list.
 *
 * A cursor is not signed: whoever edits one only moves within the list their own filters and
 * role already select.
 */
export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 200;
const CURSOR_VERSION = 1;
const CURSOR_MAX_LENGTH = 1024;

/** The paging parameters every list's query schema spreads in. */
export const pagingQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIST_LIMIT_MAX)
    .default(LIST_LIMIT_DEFAULT)
    .describe(`how many items at most (1–${LIST_LIMIT_MAX}, ${LIST_LIMIT_DEFAULT} unless told)`),
  cursor: z
    .string()
    .max(CURSOR_MAX_LENGTH)
    .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor')
    .optional()
    .describe('the nextCursor of the page before, sent with the same filters'),
};

/** `true` / `false` in a query string. */
export const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');

/** The answer of every list. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('send it as ?cursor= (with the same filters) for the next page; null on the last page'),
  });

/** A list's name, and its filters as the query selects (the merchant a merchant's token is scoped to included). */
export interface ListScope {
  list: string;
  filters: Record<string, unknown>;
}

function fingerprintOf({ list, filters }: ListScope): string {
  const defined = Object.entries(filters)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify([list, defined])).digest('base64url').slice(0, 16);
}

export function encodeCursor(scope: ListScope, position: Position): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, f: fingerprintOf(scope), k: position })).toString('base64url');
}

const cursorBody = z.object({ v: z.literal(CURSOR_VERSION), f: z.string(), k: z.array(z.string()) }).strict();
// A text key as the lists use them: ids and periods, printable and short.
const TEXT_KEY = /^[\x21-\x7e]{1,200}$/;

/** A timestamp the database will read: the shape, and a real instant (no month 13, no hour 99). */
function isTimestamp(text: string): boolean {
  if (!TIMESTAMP_TEXT.test(text)) return false;
  if (text === 'infinity') return true;
  // Date keeps milliseconds: compare the rest of the text, the microseconds aside.
  const at = new Date(text.slice(0, 23) + 'Z');
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 23) === text.slice(0, 23);
}

const invalidCursor = (message: string) => badRequest('cursor is invalid', [{ path: 'cursor', message }]);

/**
 * Where the page asked for starts: nothing without a cursor; else the position the cursor
 * holds, once it is shown to be one of this list, under these filters, with values of the
 * keys' types (so a forged one is a 400, never a query the database refuses).
 */
export function decodeCursor(cursor: string | undefined, scope: ListScope, keys: readonly SortKey[]): Position | undefined {
  if (cursor === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('not a cursor this API made');
  }
  const parsed = cursorBody.safeParse(raw);
  if (!parsed.success) throw invalidCursor('not a cursor this API made');
  if (parsed.data.f !== fingerprintOf(scope)) {
    throw invalidCursor('the cursor belongs to another list or other filters: send the filters it was made with, or start again without it');
  }
  const position = parsed.data.k;
  const fits = position.length === keys.length && keys.every((k, i) => (k.type === 'timestamptz' ? isTimestamp(position[i]!) : TEXT_KEY.test(position[i]!)));
  if (!fits) throw invalidCursor('not a cursor this API made');
  return position;
}

/**
 * One page of a list: the cursor checked against the list's scope, the page read after it,
 * its rows shown as items, and the cursor of the page after it.
 */
export async function pageThrough<R, I>(
  scope: ListScope,
  keys: readonly SortKey[],
  paging: { cursor?: string; limit: number },
  read: (after: Position | undefined, limit: number) => Promise<{ rows: R[]; next: Position | null }>,
  view: (row: R) => I,
): Promise<{ items: I[]; nextCursor: string | null }> {
  const page = await read(decodeCursor(paging.cursor, scope, keys), paging.limit);
  return { items: page.rows.map(view), nextCursor: page.next ? encodeCursor(scope, page.next) : null };
}
