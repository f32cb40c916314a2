/**
 * Helper for TypeScript participants of queue steps: one handler per task.
 *
 * ```ts
 * import { startSagaParticipant, NonRetryableError } from 'saga-orchestrator/participant';
 *
 * const participant = startSagaParticipant({
 *   connection: 'redis://127.0.0.1:6379',
 *   prefix: 'saga',                 // the server's REDIS_PREFIX
 *   queue: 'payments',              // the `queue` of the step's action
 *   handlers: {
 *     charge: async (task) => {     // the `task` of the step's action
 *       if (task.input.amount <= 0) throw new NonRetryableError('nothing to charge');
 *       return { chargeId: await payments.charge(task.input, task.idempotencyKey) };
 *     },
 *     refund: async (task) => payments.refund(task.results['charge-payment'], task.idempotencyKey),
 *   },
 * });
 * // on shutdown: await participant.close();
 * ```
 *
 * A returned value (JSON) is the step's output; a thrown error is retried by
 * the server with the step's policy; a NonRetryableError fails the step for
 * good. Outcomes go to a results queue in Redis, so none is lost while the
 * server is down. Delivery is at-least-once: use `task.idempotencyKey`.
 *
 * A task that finishes later (a webhook, a person) acknowledges now and
 * completes from anywhere, with the token semantics of callback steps:
 *
 * ```ts
 *   charge: async (task, { completeLater }) => {
 *     await provider.startCharge(task.input, { reference: completeLater() });
 *   },
 *   // later, in the webhook handler:
 *   await completeSagaTask('https://saga.internal', reference, { status: 'succeeded', output: { chargeId } });
 * ```
 */
export { completeSagaTask, NonRetryableError, startSagaParticipant } from './participant.js';
export type { CompleteOptions, SagaParticipant, SagaParticipantOptions, SagaTaskCompletion, SagaTaskContext, SagaTaskHandler } from './participant.js';
export type { SagaTask } from './protocol.js';
