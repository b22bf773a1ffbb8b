import { createHash } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json';
import { badRequest } from '../errors';
import { IDEMPOTENCY_KEY_HEADER } from '../idempotency';
import { referenceSchema, type OpenViolationBody } from './schemas';

export { IDEMPOTENCY_KEY_HEADER } from '../idempotency';

/**
 * The business reference a case is opened under: the body's `reference`, or the
 * Idempotency-Key header when the body has none. One of them is required, so a retried
 * request can always be recognised; when both are sent they must agree.
 */
export function referenceOf(body: OpenViolationBody, header: string | undefined): string {
  if (header !== undefined && !referenceSchema.safeParse(header).success) {
    throw badRequest('the Idempotency-Key header is invalid', [{ path: IDEMPOTENCY_KEY_HEADER, message: referenceSchema.description ?? 'not a reference' }]);
  }
  if (body.reference !== undefined && header !== undefined && body.reference !== header) {
    throw badRequest('violation is invalid', [{ path: 'reference', message: "the body's reference and the Idempotency-Key header differ" }]);
  }
  const reference = body.reference ?? header;
  if (reference === undefined) throw badRequest('violation is invalid', [{ path: 'reference', message: 'name the request: a reference in the body or an Idempotency-Key header' }]);
  return reference;
}

/** SHA-256 of the request's canonical JSON, without the reference itself: what "the same request" means. */
export function fingerprintOf(body: OpenViolationBody): string {
  const { reference: _reference, ...request } = body;
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}
