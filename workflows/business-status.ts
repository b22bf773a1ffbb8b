import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { NEEDS_ATTENTION } from './attention.defs';
import { BUSINESS_STATUS } from './search-attributes';

// From this change a process shows its final status before it returns: a closed deposit used
// to end showing `closing`, a settlement `running`. Runs from before it ended without the
// upsert and replay that way; where the final status already shows there is nothing to add
// (and no marker), so a process whose last step showed it completes as it always did.
export const FINAL_BUSINESS_STATUS = 'final-business-status';

/**
 * The one way a process says where it stands: the status its query reports (`holder.status`)
 * and the `BusinessStatus` search attribute the Web UI and `temporal workflow list` filter on.
 * Each call upserts at once: in a workflow the order and number of upserts are part of its
 * history, so a process calls these where it used to upsert, never in a new place without
 * `patched()`.
 */
export interface BusinessStatus<S extends string> {
  /** Sets the status and shows it, together with any attribute that changes with it (one upsert). */
  set(status: S, alongside?: SearchAttributeUpdatePair[]): void;
  /**
   * Sets the status at once (validators refuse what it no longer allows) and shows it once
   * `write`, the process's own record of it, is done.
   */
  setRecorded(status: S, write: () => Promise<unknown>): Promise<void>;
  /** Shows a status read from the state (a deposit's `shortfall`), when it is not the one shown. */
  showDerived(shown: string): void;
  /** Shows `needs_attention`; the process keeps its own status for when ops have answered. */
  needsAttention(): void;
  /** Shows the process's own status again. */
  resume(): void;
  /** What the Web UI shows now ('' before this run showed anything). */
  shown(): string;
  /**
   * Right before the process returns (not before continue-as-new, which carries its attributes
   * on): a workflow's search attributes are what its last upsert left, so the status it ends
   * with must show. Nothing happens when it already does. A `set` that showed the final status
   * on the way stays where it is: recorded runs replay that upsert.
   */
  final(status: S): void;
}

export function businessStatus<S extends string>(holder: { status: S } = { status: '' as S }): BusinessStatus<S> {
  let shown = '';
  const show = (value: string, alongside: SearchAttributeUpdatePair[] = []) => {
    upsertSearchAttributes([{ key: BUSINESS_STATUS, value }, ...alongside]);
    shown = value;
  };
  return {
    set(status, alongside) {
      holder.status = status;
      show(status, alongside);
    },
    async setRecorded(status, write) {
      holder.status = status;
      await write();
      show(status);
    },
    showDerived(value) {
      if (value !== shown) show(value);
    },
    needsAttention: () => show(NEEDS_ATTENTION),
    resume: () => show(holder.status),
    shown: () => shown,
    final(status) {
      holder.status = status;
      if (status !== shown && patched(FINAL_BUSINESS_STATUS)) show(status);
    },
  };
}
