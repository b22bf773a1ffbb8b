/**
 * Entity verification (主体认证, docs/rules.md §1): what a submission must contain, the
 * checks that can run before a human reviewer looks, and the review policy defaults.
 *
 * checkSubmission validates values as given; the API normalises identity codes first
 * (normalizeIdentityCode). Issue messages never quote an ID number, USCC or card number:
 * issues end up in logs and error bodies, personal data must not.
 */
import { normalizeIdentityCode, residentIdProblem, usccProblem } from './identity';

export const ENTITY_TYPES = ['individual', 'enterprise'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export const DOCUMENT_KINDS = [
  'id_card_front',
  'id_card_back',
  'id_card_in_hand',
  'business_license',
  'legal_rep_id_front',
  'legal_rep_id_back',
  'account_opening_permit',
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/**
 * [src] Individual: ID card front, back, and a photo holding the ID card.
 * Enterprise: business license, legal representative's ID card (both sides),
 * account-opening permit.
 */
export const REQUIRED_DOCUMENTS: Record<EntityType, readonly DocumentKind[]> = {
  individual: ['id_card_front', 'id_card_back', 'id_card_in_hand'],
  enterprise: ['business_license', 'legal_rep_id_front', 'legal_rep_id_back', 'account_opening_permit'],
};

/** Third-party platforms whose stores a shop binds (docs/rules.md sections 1 and 5). */
export const STORE_PLATFORMS = ['taobao', 'jd', 'youzan'] as const;
export type StorePlatform = (typeof STORE_PLATFORMS)[number];

export interface VerificationSubmission {
  entityType: EntityType;
  legalName: string;
  /** Individual: the person's resident ID. */
  idNumber?: string;
  /** Enterprise. */
  uscc?: string;
  /** Enterprise. */
  legalRepresentative?: { name: string; idNumber: string };
  /** Individual ([src] "bank card info"). */
  bankCard?: { bankName: string; accountNumber: string };
  documents: { kind: DocumentKind; fileId: string }[];
  boundStores?: {
    platform: StorePlatform;
    storeId: string;
    realNameEntity: { name: string; idNumber?: string; uscc?: string };
  }[];
}

/**
 * What identifies the entity itself, and belongs to one merchant only: a person's resident
 * ID, a company's USCC. Not the legal representative's ID: one person may represent
 * several companies. Undefined when the number is missing (the submission is invalid).
 */
export interface EntityIdentity {
  kind: 'resident_id' | 'uscc';
  /** Normalised (normalizeIdentityCode). */
  number: string;
}

export const IDENTITY_LABEL: Record<EntityIdentity['kind'], string> = { resident_id: 'ID number', uscc: 'USCC' };

export function entityIdentity(s: Pick<VerificationSubmission, 'entityType' | 'idNumber' | 'uscc'>): EntityIdentity | undefined {
  const number = s.entityType === 'individual' ? s.idNumber : s.uscc;
  if (number === undefined) return undefined;
  return { kind: s.entityType === 'individual' ? 'resident_id' : 'uscc', number: normalizeIdentityCode(number) };
}

export interface FieldIssue {
  path: (string | number)[];
  message: string;
}

// Bank card numbers (PAN) in China are 12–19 digits (ISO/IEC 7812 allows 8–19; UnionPay
// debit cards are 16–19, some older passbook-linked accounts shorter).
const BANK_CARD_NUMBER = /^\d{12,19}$/;

const isBlank = (value: string) => value.trim() === '';

function checkIndividualFields(s: VerificationSubmission, issues: FieldIssue[]): void {
  if (s.idNumber === undefined) {
    issues.push({ path: ['idNumber'], message: 'is required for an individual' });
  } else {
    const problem = residentIdProblem(s.idNumber);
    if (problem) issues.push({ path: ['idNumber'], message: problem });
  }
  if (s.bankCard === undefined) {
    issues.push({ path: ['bankCard'], message: 'is required for an individual' });
  } else {
    if (isBlank(s.bankCard.bankName)) {
      issues.push({ path: ['bankCard', 'bankName'], message: 'is required' });
    }
    if (!BANK_CARD_NUMBER.test(s.bankCard.accountNumber)) {
      issues.push({ path: ['bankCard', 'accountNumber'], message: 'must be 12 to 19 digits' });
    }
  }
  if (s.uscc !== undefined) {
    issues.push({ path: ['uscc'], message: 'does not apply to an individual' });
  }
  if (s.legalRepresentative !== undefined) {
    issues.push({ path: ['legalRepresentative'], message: 'does not apply to an individual' });
  }
}

function checkEnterpriseFields(s: VerificationSubmission, issues: FieldIssue[]): void {
  if (s.uscc === undefined) {
    issues.push({ path: ['uscc'], message: 'is required for an enterprise' });
  } else {
    const problem = usccProblem(s.uscc);
    if (problem) issues.push({ path: ['uscc'], message: problem });
  }
  if (s.legalRepresentative === undefined) {
    issues.push({ path: ['legalRepresentative'], message: 'is required for an enterprise' });
  } else {
    if (isBlank(s.legalRepresentative.name)) {
      issues.push({ path: ['legalRepresentative', 'name'], message: 'is required' });
    }
    const problem = residentIdProblem(s.legalRepresentative.idNumber);
    if (problem) issues.push({ path: ['legalRepresentative', 'idNumber'], message: problem });
  }
  // An enterprise identifies by USCC and legal representative; a personal ID number or
  // card here would be personal data collected for nothing.
  if (s.idNumber !== undefined) {
    issues.push({ path: ['idNumber'], message: 'does not apply to an enterprise' });
  }
  if (s.bankCard !== undefined) {
    issues.push({ path: ['bankCard'], message: 'does not apply to an enterprise' });
  }
}

function checkDocuments(s: VerificationSubmission, issues: FieldIssue[]): void {
  const required = REQUIRED_DOCUMENTS[s.entityType];
  const seen = new Set<DocumentKind>();
  s.documents.forEach((doc, index) => {
    if (!required.includes(doc.kind)) {
      const message = `${doc.kind} is not a document for an ${s.entityType}`;
      issues.push({ path: ['documents', index, 'kind'], message });
    } else if (seen.has(doc.kind)) {
      issues.push({ path: ['documents', index, 'kind'], message: `${doc.kind} is given more than once` });
    }
    seen.add(doc.kind);
    if (isBlank(doc.fileId)) {
      issues.push({ path: ['documents', index, 'fileId'], message: 'is required' });
    }
  });
  const missing = required.filter((kind) => !seen.has(kind));
  if (missing.length > 0) {
    issues.push({ path: ['documents'], message: `missing required documents: ${missing.join(', ')}` });
  }
}

/**
 * [src] The real-name entity of a bound Taobao store must be exactly the Kuaishou entity:
 * the same name (surrounding whitespace aside) and the same USCC. Applied to every
 * platform, and for an individual to the resident ID number, since a store registered to
 * someone else is the same risk wherever it lives.
 */
function checkBoundStores(s: VerificationSubmission, issues: FieldIssue[]): void {
  (s.boundStores ?? []).forEach((store, index) => {
    const at = (...rest: string[]) => ['boundStores', index, ...rest];
    if (isBlank(store.storeId)) issues.push({ path: at('storeId'), message: 'is required' });
    const entity = store.realNameEntity;
    if (entity.name.trim() !== s.legalName.trim()) {
      const message = 'must be exactly the legal name of the verified entity';
      issues.push({ path: at('realNameEntity', 'name'), message });
    }
    if (s.entityType === 'enterprise' && entity.uscc !== s.uscc) {
      const message =
        entity.uscc === undefined ? 'is required for an enterprise' : 'must be the USCC of the verified entity';
      issues.push({ path: at('realNameEntity', 'uscc'), message });
    }
    if (s.entityType === 'individual' && entity.idNumber !== s.idNumber) {
      const message =
        entity.idNumber === undefined
          ? 'is required for an individual'
          : 'must be the ID number of the verified person';
      issues.push({ path: at('realNameEntity', 'idNumber'), message });
    }
  });
}

/** Every problem found in a submission; empty when it may go to a reviewer. */
export function checkSubmission(s: VerificationSubmission): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (isBlank(s.legalName)) issues.push({ path: ['legalName'], message: 'is required' });
  if (s.entityType === 'individual') checkIndividualFields(s, issues);
  else checkEnterpriseFields(s, issues);
  checkDocuments(s, issues);
  checkBoundStores(s, issues);
  return issues;
}

export interface ReviewPolicy {
  /** Working days from submission to the SLA, at which the case escalates and stays open. */
  slaWorkingDays: Record<EntityType, number>;
  /** Calendar days the merchant has to resubmit after a request for more information. */
  resubmitWindowDays: number;
}

/**
 * [default] (docs/rules.md §1): 3 / 5 working days, the upper ends of the [src] review
 * times (1–3 and 3–5 working days), and 7 calendar days to resubmit. Configurable
 * (VERIFICATION_SLA_*_WORKING_DAYS, VERIFICATION_RESUBMIT_WINDOW_DAYS).
 */
export const DEFAULT_REVIEW_POLICY: ReviewPolicy = {
  slaWorkingDays: { individual: 3, enterprise: 5 },
  resubmitWindowDays: 7,
};

export const VERIFICATION_STATUSES = [
  'in_review',
  'awaiting_resubmission',
  'approved',
  'rejected',
  'abandoned',
] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/** Open: a reviewer or the merchant still has to act. The other statuses are final. */
export function isOpenStatus(status: VerificationStatus): boolean {
  return status === 'in_review' || status === 'awaiting_resubmission';
}
