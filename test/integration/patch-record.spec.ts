import { DefinitionCache } from '../../src/definitions/definition-cache.js';
import { stepJob } from '../../src/dispatch/step-job.js';
import { decide, outstandingAttempts } from '../../src/engine/decide.js';
import type { EngineInput } from '../../src/engine/saga-state.js';
import { snapshotOf } from '../../src/executions/saga-transitions.js';
import { patchRecord, type Transition } from '../../src/executions/patch-record.js';
import type { SagaRecord } from '../../src/executions/saga.records.js';
import { SagaRepository } from '../../src/executions/saga.repository.js';
import { httpClient } from '../support/http-client.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/**
 * patchRecord (the copy a worker keeps of the saga it wrote) against the
 * guarded update (what Postgres stores), transition by transition through a
 * saga's life: both are built from patch-fields.ts, and must agree field for
 * field with what a fresh read returns.
 */
describe(`${patchRecord.name} against the guarded update`, () => {
  let t: TestApp;

  beforeAll(async () => {
    // API role: no worker moves the saga; the test feeds every input itself.
    t = await startTestApp({ ROLE: 'api' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('should predict exactly what a fresh read returns after every transition', async () => {
    const api = httpClient(t.baseUrl);
    const http = (path: string) => ({ type: 'http', url: `http://127.0.0.1:9/${path}` });
    const retry = { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 1_000, maxDelayMs: 1_000 };
    const registered = await api.post('/v1/definitions', {
      name: 'patched',
      timeoutMs: 600_000,
      steps: [
        { name: 'first', action: http('a'), compensation: http('a-undo'), retry },
        { name: 'second', action: http('b'), compensation: http('b-undo'), retry },
        { name: 'third', action: http('c'), retry },
      ],
    });
    expect(registered.status).toBe(201);
    const id = (await api.post('/v1/sagas', { definition: 'patched', input: { order: 1 } })).body.id as string;

    const sagas = t.app.get(SagaRepository);
    const definitions = t.app.get(DefinitionCache);
    const compared: string[] = [];

    /** Decides `input` on the stored saga, writes it, and compares patchRecord's copy with a fresh read. */
    async function step(input: (saga: SagaRecord) => EngineInput, carriedBy?: string): Promise<SagaRecord> {
      const record = (await sagas.find(id))!;
      const definition = await definitions.get(record.definitionName, record.definitionVersion);
      const now = new Date();
      const decision = decide({ definition, saga: snapshotOf(record), now, random: () => 0.5 }, input(record));
      if (decision.outcome !== 'applied') throw new Error(`not applied: ${decision.reason}`);
      const jobs = decision.commands.map((c) => stepJob(id, decision.saga.run ?? record.run, c));
      // Carried on by a worker (eager steps): recorded with its carrier, not published.
      const carried = carriedBy && jobs.length === 1 ? { jobs, by: carriedBy } : null;
      const transition: Transition = { saga: decision.saga, steps: decision.steps, results: decision.results, events: decision.events, jobs: carried ? [] : jobs, carried, now };
      expect(await sagas.update(record, transition)).not.toBeNull();
      const stored = (await sagas.find(id))!;
      expect(patchRecord(record, transition)).toEqual(stored);
      compared.push(`${input(record).type} → ${stored.status}`);
      return stored;
    }

    const at = (s: SagaRecord) => outstandingAttempts(snapshotOf(s))[0];
    const carrying = await step((s) => ({ type: 'attempt-succeeded', ...at(s), output: { reserved: true, constructor: 'kept', nothing: null } }), 'job-7');
    expect(carrying.steps[1]).toMatchObject({ carrier: 'job-7', awaiting: 'action' });
    // A retry after its backoff is published again, not carried: the carrier is cleared.
    const retrying = await step((s) => ({ type: 'attempt-failed', ...at(s), failure: { retryable: true, timedOut: true, message: 'slow' } }));
    expect(retrying.steps[1].carrier).toBeNull();
    expect(retrying.steps[1].notBefore).not.toBeNull();
    await step(() => ({ type: 'cancel', by: 'tester', reason: 'changed my mind' }));
    await step((s) => ({ type: 'attempt-failed', ...at(s), failure: { retryable: false, timedOut: false, message: 'no', details: { status: 422 } } }));
    const compensated = await step((s) => ({ type: 'attempt-succeeded', ...at(s), output: { released: true } }));
    expect(compensated.status).toBe('COMPENSATED');
    const rerun = await step(() => ({ type: 'replay', input: { order: 2 }, reason: 'again', by: 'tester' }));
    expect(rerun).toMatchObject({ run: 2, status: 'RUNNING', input: { order: 2 }, results: {} });
    await step((s) => ({ type: 'attempt-succeeded', ...at(s), output: null }));
    await step((s) => ({ type: 'attempt-succeeded', ...at(s), output: [1, 2] }));
    expect(compared).toHaveLength(8);
  });
});
