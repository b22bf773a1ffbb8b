/**
 * A plausible but unsafe edit of workflows/verification.ts, used by replay.test.ts to
 * prove the committed histories catch it: the SLA is planned before the case is opened,
 * so the first command is a planReviewDeadline activity where every recorded history
 * has openCase. Everything after that is the real workflow.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { VerificationActivities } from '../../../activities/verification';
import { verificationReview as current } from '../../../workflows/verification';
import type { VerificationInput, VerificationResult } from '../../../workflows/verification.defs';

const { planReviewDeadline } = proxyActivities<VerificationActivities>({ startToCloseTimeout: '10 seconds' });

export async function verificationReview(input: VerificationInput): Promise<VerificationResult> {
  await planReviewDeadline({ entityType: input.entityType, submittedAt: input.submittedAt });
  return current(input);
}
