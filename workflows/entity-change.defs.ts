import type { EntityType } from '../domain/verification';
import type { ProcessIdentity } from './process';

/**
 * A verified merchant's change of entity (e.g. an individual that incorporated): its own
 * reviewed process, never a plain verification, because approval changes what the merchant
 * is, the number it holds, its shop's type and its deposit requirement together.
 *
 * Its case is a verification case of kind `entity_change`: the reviewer reads it and
 * decides on it through the same routes, `decide` update and `state` query as a first
 * verification (re-exported here), so one decision route serves both.
 */
export { decideUpdate, verificationStateQuery as entityChangeStateQuery } from './verification.defs';

export const ENTITY_CHANGE_PROCESS = 'entity-change';
export const ENTITY_CHANGE_WORKFLOW_TYPE = 'entityChange';

/** One open change per merchant, from the business key. */
export const entityChangeWorkflowId = (merchantId: string): string => `entity-change:${merchantId}`;

/** Ids and types only: the new entity's numbers stay encrypted in the database. */
export interface EntityChangeInput {
  caseId: string;
  merchantId: string;
  fromEntityType: EntityType;
  toEntityType: EntityType;
  submittedAt: string;
  /** `role:subject` of whoever filed the change. */
  submittedBy: string;
}

export interface EntityChangeResult {
  status: 'approved' | 'rejected';
  shopId?: string;
  /** The shop's deposit requirement under its new type, in fen. */
  requiredFen?: number;
}

/** The process as the registry, the API seam and the replay test know it. */
export const entityChangeProcess: ProcessIdentity = {
  workflowType: ENTITY_CHANGE_WORKFLOW_TYPE,
  processType: ENTITY_CHANGE_PROCESS,
  workflowId: entityChangeWorkflowId,
  replayPrefix: 'entity-change-',
};
