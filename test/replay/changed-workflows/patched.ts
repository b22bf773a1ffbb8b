/**
 * The same edit as index.ts, done the safe way: behind patched(), runs recorded before
 * the change replay the old path and only new runs take the new one.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { VerificationActivities } from '../../../activities/verification';
import { verificationReview as current } from '../../../workflows/verification';
import type { VerificationInput, VerificationResult } from '../../../workflows/verification.defs';

const { planReviewDeadline } = proxyActivities<VerificationActivities>({ startToCloseTimeout: '10 seconds' });

export async function verificationReview(input: VerificationInput): Promise<VerificationResult> {
  if (patched('plan-sla-before-open')) {
    await planReviewDeadline({ entityType: input.entityType, submittedAt: input.submittedAt });
  }
  return current(input);
}
