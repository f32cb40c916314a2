/**
 * The README's "Use it from TypeScript" example, as a program: strict mode,
 * no casts (test/e2e/client.e2e.spec.ts compiles it, counts its casts and
 * runs it against a real server).
 */
import { createSagaClient, SagaApiError, unwrap } from '../../src/client/index.js';

export async function example(baseUrl: string, apiKey: string, participantUrl: string): Promise<string[]> {
  const log: string[] = [];
  const sagas = createSagaClient({ baseUrl, apiKey });

  // Register a definition: the action union is typed by its `type`.
  const definition = unwrap(
    await sagas.api.POST('/v1/definitions', {
      body: {
        name: 'client-example',
        onStepFailure: 'pause',
        steps: [
          { name: 'reserve', action: { type: 'http', url: `${participantUrl}/reserve` }, compensation: { type: 'http', url: `${participantUrl}/release` } },
          { name: 'charge', action: { type: 'http', url: `${participantUrl}/charge`, body: { amount: '${input.amount}' } }, retry: { maxAttempts: 1 } },
        ],
      },
    }),
  );
  log.push(`registered ${definition.name} v${definition.version}`);

  // Trigger with an Idempotency-Key (retried safely), then wait for it to settle.
  const started = await sagas.startSaga({ definition: 'client-example', input: { amount: 30 }, correlationId: 'order-1' }, { idempotencyKey: 'order-1' });
  const done = await sagas.waitForSaga(started.data.id);
  log.push(`saga ${done.status}`);
  const again = await sagas.startSaga({ definition: 'client-example', input: { amount: 30 }, correlationId: 'order-1' }, { idempotencyKey: 'order-1' });
  log.push(`same key, same saga: ${again.data.id === started.data.id}`);

  // A saga the participant refuses pauses; replay it.
  const refused = await sagas.startSaga({ definition: 'client-example', input: { amount: 5000 } });
  const paused = await sagas.waitForSaga(refused.data.id);
  log.push(`big order ${paused.status}: ${paused.error?.code ?? 'no error'}`);
  const replayed = unwrap(await sagas.api.POST('/v1/sagas/{id}/replay', { params: { path: { id: paused.id } }, body: { reason: 'limit raised' } }));
  log.push(`replayed: ${replayed.status}`);

  // Page through the sagas, and read a saga's history.
  let count = 0;
  for await (const saga of sagas.pages((cursor) => sagas.api.GET('/v1/sagas', { params: { query: { definition: 'client-example', limit: 1, cursor } } }).then(unwrap))) {
    if (saga.definition === 'client-example') count++;
  }
  log.push(`listed ${count} sagas, one per page`);
  const events = unwrap(await sagas.api.GET('/v1/sagas/{id}/events', { params: { path: { id: done.id }, query: { after: 0, limit: 100 } } }));
  log.push(`history: ${events.items.map((e) => e.type).join(' ')}`);

  // Problems come back as a SagaApiError with their code.
  try {
    unwrap(await sagas.api.GET('/v1/sagas/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' }, query: {} } }));
  } catch (error) {
    if (error instanceof SagaApiError && error.code === 'SAGA_NOT_FOUND') log.push(`404 ${error.code}`);
    else throw error;
  }
  return log;
}
