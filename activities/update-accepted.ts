import type { WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';

/**
 * Hands a request to another process and returns once that process has accepted it: its
 * validator passed and the update is in its history, so its handler runs (and a refusal by the
 * validator throws here, as before). It does not wait for the handler to finish. The handlers an
 * activity calls (a deposit's movements, a closure's cancellation) run activities of their own
 * on the same worker: an activity waiting for them holds a slot they need, and a burst of such
 * activities (a risk scan opening hundreds of fined cases) leaves every slot waiting for good.
 * The update id is the caller's business key, so a retry joins the request it made before.
 */
export async function updateAccepted<Arg>(handle: WorkflowHandle, update: UpdateDefinition<unknown, [Arg]>, arg: Arg, updateId: string): Promise<void> {
  await handle.startUpdate(update, { args: [arg], updateId, waitForStage: 'ACCEPTED' });
}
