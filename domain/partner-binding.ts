/**
 * Binding an outside store to a Kuaishou shop (docs/rules.md §5.1): the shapes of the ids each
 * partner issues, the entity check, the token refresh plan and the named refusals. Pure.
 */

export type BindingPlatform = 'taobao' | 'tmall' | 'youzan' | 'jd' | 'pinduoduo';

/**
 * A Taobao Union promotion position id [src]: `mm_<member>_<site>_<adzone>`, three groups of
 * 1 to 20 ASCII digits, lower-case `mm_`, nothing around it. A malformed PID loses the
 * commission of every order it tracks, so it is refused before anything is saved.
 */
export const TAOBAO_PID = /^mm_(\d{1,20})_(\d{1,20})_(\d{1,20})$/;
/** A Pinduoduo (多多进宝) PID [default]: `<member>_<position>`, two groups of 1 to 20 digits. */
export const PINDUODUO_PID = /^(\d{1,20})_(\d{1,20})$/;
/** A JD Union id [default]: the union account's number, 1 to 20 digits. */
export const JD_UNION_ID = /^\d{1,20}$/;

export const isTaobaoPid = (pid: string): boolean => TAOBAO_PID.test(pid);
export const isPinduoduoPid = (pid: string): boolean => PINDUODUO_PID.test(pid);
export const isJdUnionId = (id: string): boolean => JD_UNION_ID.test(id);

/** The refusals a binding can meet; each has its own message saying what to do. */
export type BindingRefusalCode =
  | 'merchant_not_verified'
  | 'store_not_found'
  | 'entity_mismatch'
  | 'pid_malformed'
  | 'union_id_malformed'
  | 'pid_not_authorised'
  | 'sub_account_authorisation'
  | 'taobaoke_not_open'
  | 'position_not_content_scene'
  | 'not_self_operated'
  | 'not_commission_only'
  | 'authorisation_expired'
  | 'api_permission_closed'
  | 'level_mismatch'
  | 'id_not_of_platform';

export interface BindingRefusal {
  code: BindingRefusalCode;
  message: string;
  /** entity_mismatch: which fields differ (never their values). */
  fields?: EntityField[];
}

const MESSAGES: Record<BindingRefusalCode, string> = {
  merchant_not_verified: 'the merchant is not verified: finish the entity verification before binding a store',
  store_not_found: 'the partner platform knows no such store: check the store id',
  entity_mismatch: "the store's real-name entity differs from the merchant's verified entity: bind a store held by the same entity",
  pid_malformed: 'the PID is malformed: copy it from the union as mm_<member>_<site>_<adzone> (digits only)',
  union_id_malformed: 'the JD Union id is malformed: it is the union account number (digits only)',
  pid_not_authorised: 'the promotion position is not authorised on the union side: authorise it there, then complete the binding again',
  sub_account_authorisation: "the position was authorised with a sub-account: authorise it with the union's main account",
  taobaoke_not_open: 'the store has no Taobao-ke service open: open Taobao-ke for the store, then complete the binding again',
  position_not_content_scene: 'the promotion position is not a content-scene promotion position: create one of that type and bind its PID',
  not_self_operated: 'JD Union promotes self-operated product links only: bind a JD self-operated store',
  not_commission_only: 'Pinduoduo binds commission-only promotion: switch the position to commission-only',
  authorisation_expired: 'the authorisation was not completed in time: start the binding again',
  api_permission_closed: "the shop's API permission is closed (disable_api): no store may be bound while it holds; an upheld appeal lifts it",
  level_mismatch: 'the consent was given at another permission level than the binding asked for: consent again at the level asked',
  id_not_of_platform: 'an id was given that this platform does not issue: Taobao / Tmall and Pinduoduo take a pid, JD a unionId, Youzan neither',
};

export function refusal(code: BindingRefusalCode, fields?: EntityField[]): BindingRefusal {
  return fields ? { code, message: `${MESSAGES[code]} (differs: ${fields.join(', ')})`, fields } : { code, message: MESSAGES[code] };
}

/** The id a binding is started with, checked by the platform's own shape; null when it fits. */
export function checkBindingIds(platform: BindingPlatform, ids: { pid?: string; unionId?: string }): BindingRefusal | null {
  // An id the platform does not issue would be stored and shown as if it meant something.
  const takesPid = platform !== 'jd' && platform !== 'youzan';
  if ((ids.pid !== undefined && !takesPid) || (ids.unionId !== undefined && platform !== 'jd')) return refusal('id_not_of_platform');
  switch (platform) {
    case 'taobao':
    case 'tmall':
      return ids.pid !== undefined && isTaobaoPid(ids.pid) ? null : refusal('pid_malformed');
    case 'pinduoduo':
      return ids.pid !== undefined && isPinduoduoPid(ids.pid) ? null : refusal('pid_malformed');
    case 'jd':
      return ids.unionId !== undefined && isJdUnionId(ids.unionId) ? null : refusal('union_id_malformed');
    case 'youzan':
      return null;
  }
}

export type EntityField = 'kind' | 'name' | 'uscc' | 'idNumber';

/**
 * An entity as compared: its kind, its name, and its number only as a keyed hash (the
 * merchant's is stored that way; the store's is hashed with the same key before it gets here).
 */
export interface ComparableEntity {
  kind: 'enterprise' | 'individual';
  name: string;
  /** The keyed hash of the USCC (enterprise) or ID number (individual); null when unknown. */
  numberKey: string | null;
}

/** Names compare without surrounding or repeated blanks and full-width brackets as ASCII ones. */
export function normaliseEntityName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/g, ' ').trim();
}

/** The fields that differ between the store's entity and the merchant's verified one; [] when the same. */
export function entityDifferences(store: ComparableEntity, merchant: ComparableEntity): EntityField[] {
  if (store.kind !== merchant.kind) return ['kind'];
  const fields: EntityField[] = [];
  if (normaliseEntityName(store.name) !== normaliseEntityName(merchant.name)) fields.push('name');
  // An unknown number never matches: the binding needs both.
  if (store.numberKey === null || merchant.numberKey === null || store.numberKey !== merchant.numberKey) {
    fields.push(store.kind === 'enterprise' ? 'uscc' : 'idNumber');
  }
  return fields;
}

/** The union's answer about a Taobao / Tmall position, checked in the order the merchant fixes them. */
export function checkUnionAuthorisation(answer: {
  status: 'authorised' | 'not_authorised';
  account: 'main' | 'sub' | null;
  positionType: 'content_scene' | 'other' | null;
}, taobaokeOpen: boolean): BindingRefusal | null {
  if (!taobaokeOpen) return refusal('taobaoke_not_open');
  if (answer.account === 'sub') return refusal('sub_account_authorisation');
  if (answer.status !== 'authorised') return refusal('pid_not_authorised');
  if (answer.positionType !== 'content_scene') return refusal('position_not_content_scene');
  return null;
}

/** [default] Lifetimes Youzan grants when its answer says nothing: access 7 days, refresh 28 days. */
export const DEFAULT_ACCESS_LIFETIME_SECONDS = 7 * 86_400;
export const DEFAULT_REFRESH_LIFETIME_SECONDS = 28 * 86_400;
/** [default] Refresh one day before the access token expires. */
export const DEFAULT_REFRESH_LEAD_SECONDS = 86_400;

/**
 * How long after a grant to refresh it: `lead` before the access token expires (and never
 * after the refresh token does). A lifetime shorter than twice the lead is refreshed at half
 * its life, so a short-lived token is not refreshed the moment it arrives. At least 1 second.
 */
export function refreshDelaySeconds(grant: { accessExpiresInSeconds: number; refreshExpiresInSeconds: number }, leadSeconds: number): number {
  const life = Math.min(grant.accessExpiresInSeconds, grant.refreshExpiresInSeconds);
  const delay = life >= 2 * leadSeconds ? life - leadSeconds : Math.floor(life / 2);
  return Math.max(1, delay);
}

/** [default] An authorisation left unfinished (no union confirmation, no OAuth callback) ends after 7 days. */
export const AUTHORISATION_WAIT_SECONDS = 7 * 86_400;
/** [default] A Youzan OAuth state is good for 15 minutes, once. */
export const OAUTH_STATE_LIFETIME_SECONDS = 15 * 60;
