import type { Knex } from 'knex';
import type { LinkKind, LinkPartner, LinkWindow, WindowDates, WindowPhase } from '../../domain/link-windows';
import { keysetPage, type KeysetPage, type Position, type SortKey } from '../keyset';

/** Link windows and their versions (migration 021): a change of dates is a new version. */

export type LinkWindowStatus = 'scheduled' | 'open' | 'closing' | 'closed' | 'cancelled';

/** Whether the window's process runs on a version: see migration 021. */
export type VersionState = 'pending' | 'applied' | 'refused';

export interface WindowVersion extends WindowDates {
  version: number;
  state: VersionState;
  source: string;
  changedBy: string;
  changedAt: Date;
}

export interface StoredWindow extends LinkWindow {
  status: LinkWindowStatus;
  workflowId: string;
  createdBy: string;
  createdAt: Date;
  source: string;
}

interface WindowRow {
  id: string;
  partner: LinkPartner;
  link_kind: LinkKind;
  status: LinkWindowStatus;
  current_version: number;
  workflow_id: string;
  created_by: string;
  created_at: Date;
  opens_on: string;
  closes_on: string | null;
  phases: WindowPhase[];
  source: string;
}

export const LINK_WINDOW_LIST_ORDER: readonly SortKey[] = [
  { sql: 'w.created_at', type: 'timestamptz', direction: 'desc' },
  { sql: 'w.id', type: 'text', direction: 'desc' },
];

// Dates as the domain reads them ('YYYY-MM-DD'), whatever the driver's type parser does.
const dateText = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;

const windowOf = (r: WindowRow): StoredWindow => ({
  windowId: r.id,
  partner: r.partner,
  linkKind: r.link_kind,
  version: r.current_version,
  opensOn: r.opens_on,
  closesOn: r.closes_on,
  phases: r.phases,
  cancelled: r.status === 'cancelled',
  status: r.status,
  workflowId: r.workflow_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  source: r.source,
});

export interface NewWindow {
  id: string;
  partner: LinkPartner;
  linkKind: LinkKind;
  workflowId: string;
  createdBy: string;
  dates: WindowDates;
  source: string;
}

export function createLinkWindowRepository(db: Knex) {
  const withCurrent = (q: Knex = db) =>
    q('link_windows as w')
      .join('link_window_versions as v', function () {
        this.on('v.window_id', 'w.id').andOn('v.version', 'w.current_version');
      })
      .select(
        'w.id',
        'w.partner',
        'w.link_kind',
        'w.status',
        'w.current_version',
        'w.workflow_id',
        'w.created_by',
        'w.created_at',
        db.raw(`${dateText('v.opens_on')} AS opens_on`),
        db.raw(`${dateText('v.closes_on')} AS closes_on`),
        'v.phases',
        'v.source',
      );

  return {
    /**
     * Serialises the writes of one partner and kind until the transaction ends, so two windows
     * written at once cannot both pass the overlap check (db must be a transaction).
     */
    async lockPartnerKind(partner: string, linkKind: string): Promise<void> {
      await db.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`link_windows:${partner}:${linkKind}`]);
    },

    async insert(w: NewWindow): Promise<void> {
      await db('link_windows').insert({ id: w.id, partner: w.partner, link_kind: w.linkKind, status: 'scheduled', current_version: 1, workflow_id: w.workflowId, created_by: w.createdBy });
      await db('link_window_versions').insert(versionRow(w.id, 1, w.dates, w.source, w.createdBy));
    },

    /**
     * Adds the next version (after every one written, applied or not) as `pending`: the
     * process makes it current when it takes it (recordApplied). Under lockPartnerKind.
     */
    async addPendingVersion(windowId: string, dates: WindowDates, source: string, changedBy: string): Promise<number> {
      const last = (await db('link_window_versions').where({ window_id: windowId }).max({ v: 'version' }).first()) as { v: number | null };
      const version = (last.v ?? 0) + 1;
      await db('link_window_versions').insert({ ...versionRow(windowId, version, dates, source, changedBy), state: 'pending' });
      return version;
    },

    /** The process took this version: current from now (idempotent; an older one never replaces a newer). */
    async recordApplied(windowId: string, version: number): Promise<void> {
      await db('link_window_versions').where({ window_id: windowId, version }).whereNot({ state: 'applied' }).update({ state: 'applied', applied_at: db.fn.now() });
      await db('link_windows').where({ id: windowId }).where('current_version', '<', version).update({ current_version: version, updated_at: db.fn.now() });
    },

    /** The process answered no to a version it never took (it had ended, or refused the dates). */
    async markRefused(windowId: string, version: number): Promise<void> {
      await db('link_window_versions').where({ window_id: windowId, version, state: 'pending' }).update({ state: 'refused' });
    },

    /**
     * Versions written but not yet taken by their processes, of other live windows of this
     * partner and kind: they count for overlaps, for their process may still take them.
     */
    async pendingOf(partner: string, linkKind: string): Promise<LinkWindow[]> {
      const rows = (await db('link_window_versions as v')
        .join('link_windows as w', 'w.id', 'v.window_id')
        .where({ 'v.state': 'pending', 'w.partner': partner, 'w.link_kind': linkKind })
        .whereIn('w.status', ['scheduled', 'open'])
        .select('w.id', 'w.partner', 'w.link_kind', 'v.version', db.raw(`${dateText('v.opens_on')} AS opens_on`), db.raw(`${dateText('v.closes_on')} AS closes_on`), 'v.phases')) as Array<{
        id: string;
        partner: LinkPartner;
        link_kind: LinkKind;
        version: number;
        opens_on: string;
        closes_on: string | null;
        phases: WindowPhase[];
      }>;
      return rows.map((r) => ({ windowId: r.id, partner: r.partner, linkKind: r.link_kind, version: r.version, opensOn: r.opens_on, closesOn: r.closes_on, phases: r.phases }));
    },

    async find(windowId: string): Promise<StoredWindow | undefined> {
      const row = (await withCurrent().where('w.id', windowId).first()) as WindowRow | undefined;
      return row && windowOf(row);
    },

    async versions(windowId: string): Promise<WindowVersion[]> {
      const rows = (await db('link_window_versions')
        .where({ window_id: windowId })
        .orderBy('version')
        .select('version', db.raw(`${dateText('opens_on')} AS opens_on`), db.raw(`${dateText('closes_on')} AS closes_on`), 'phases', 'source', 'changed_by', 'changed_at', 'state')) as Array<{
        state: VersionState;
        version: number;
        opens_on: string;
        closes_on: string | null;
        phases: WindowPhase[];
        source: string;
        changed_by: string;
        changed_at: Date;
      }>;
      return rows.map((r) => ({ version: r.version, opensOn: r.opens_on, closesOn: r.closes_on, phases: r.phases, source: r.source, changedBy: r.changed_by, changedAt: r.changed_at, state: r.state }));
    },

    /**
     * Every window not ended, of one partner and kind (all when not named): what allows and
     * what overlaps. A closed window is out whatever its dates said: one cancelled while open
     * ended that day, and its unlived days must not block the next window. A closing one
     * still counts (its links are still coming down).
     */
    async live(partner?: string, linkKind?: string): Promise<StoredWindow[]> {
      const q = withCurrent().whereNotIn('w.status', ['cancelled', 'closed']);
      if (partner !== undefined) void q.where('w.partner', partner);
      if (linkKind !== undefined) void q.where('w.link_kind', linkKind);
      return ((await q) as WindowRow[]).map(windowOf);
    },

    async page(after: Position | undefined, limit: number): Promise<KeysetPage<StoredWindow>> {
      const page = await keysetPage<WindowRow>(db, withCurrent(), LINK_WINDOW_LIST_ORDER, after, limit);
      return { rows: page.rows.map(windowOf), next: page.next };
    },

    async setStatus(windowId: string, status: LinkWindowStatus): Promise<void> {
      await db('link_windows').where({ id: windowId }).update({ status, updated_at: db.fn.now() });
    },

    async setRunId(windowId: string, runId: string): Promise<void> {
      await db('link_windows').where({ id: windowId }).update({ run_id: runId });
    },

    async remove(windowId: string): Promise<void> {
      await db('link_window_versions').where({ window_id: windowId }).delete();
      await db('link_windows').where({ id: windowId }).delete();
    },
  };
}

function versionRow(windowId: string, version: number, dates: WindowDates, source: string, changedBy: string) {
  return { window_id: windowId, version, opens_on: dates.opensOn, closes_on: dates.closesOn, phases: JSON.stringify(dates.phases), source, changed_by: changedBy };
}

export type LinkWindowRepository = ReturnType<typeof createLinkWindowRepository>;
