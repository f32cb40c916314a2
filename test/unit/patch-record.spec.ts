import { patchRecord } from '../../src/executions/patch-record.js';
import { newSagaRecord, type SagaRecord } from '../../src/executions/saga.records.js';

/** A RUNNING saga awaiting step 0's first attempt, with a stop requested and a circuit wait recorded on that step. */
const record = (): SagaRecord => ({
  ...newSagaRecord(
    {
      id: '00000000-0000-4000-8000-000000000001',
      definitionName: 'd',
      definitionVersion: 1,
      input: { a: 1 },
      correlationId: null,
      idempotencyKey: null,
      requestHash: null,
      stepNames: ['first', 'second'],
    },
    { status: 'RUNNING', deadlineAt: new Date('2026-01-01T00:00:00Z') },
    new Map([[0, { status: 'RUNNING', attempts: 1, awaiting: 'action' }]]),
    4,
    new Date('2025-01-01T00:00:00Z'),
  ),
  results: { first: { x: 1 } },
  stopRequested: { code: 'CANCELLED', message: 'stop' } as SagaRecord['stopRequested'],
  version: 3,
});

const withCircuitWait = (r: SagaRecord): SagaRecord => ({ ...r, steps: r.steps.map((t) => (t.index === 0 ? { ...t, circuitWait: { host: 'h', until: 'later' } } : t)) });

describe(patchRecord.name, () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('should set present fields (null included), keep absent ones, and move version and next_seq on', () => {
    const r = withCircuitWait(record());
    const next = patchRecord(r, {
      saga: { stopRequested: null },
      steps: new Map([
        [0, { status: 'SUCCEEDED', awaiting: null }],
        [1, { status: 'RUNNING', attempts: 1, startedAt: now, awaiting: 'action' }],
      ]),
      results: { second: { y: 2 } },
      events: [{ type: 'StepStarted' as never }, { type: 'StepSucceeded' as never }],
      jobs: [{ queue: 'saga-steps', jobId: 'j', notBefore: '2026-06-01T00:00:01.000Z', data: { step: 1 } as never }],
      now,
    });
    expect(next).toMatchObject({ status: 'RUNNING', stopRequested: null, error: null });
    expect(next.deadlineAt).toEqual(r.deadlineAt);
    expect(next.results).toEqual({ first: { x: 1 }, second: { y: 2 } });
    expect(next.version).toBe(4);
    expect(next.nextSeq).toBe(r.nextSeq + 2);
    expect(next.updatedAt).toBe(now);
    // The step whose attempt ended loses its circuit wait; the dispatched one gets its backoff and no carrier.
    expect(next.steps[0]).toEqual({ ...r.steps[0], status: 'SUCCEEDED', awaiting: null, circuitWait: null });
    expect(next.steps[1]).toMatchObject({ status: 'RUNNING', attempts: 1, startedAt: now.toISOString(), finishedAt: null, awaiting: 'action', notBefore: '2026-06-01T00:00:01.000Z', carrier: null });
  });

  it('should keep a circuit wait on a step the transition does not touch', () => {
    const r = withCircuitWait(record());
    const next = patchRecord(r, { saga: { status: 'COMPENSATING' }, steps: new Map(), results: {}, events: [], jobs: [], now });
    expect(next.steps[0].circuitWait).toEqual({ host: 'h', until: 'later' });
    // The record it came from is not changed.
    expect(r.version).toBe(3);
    expect(r.results).toEqual({ first: { x: 1 } });
  });

  it('should replace results and input for a new run, and clear the deadline when the patch sets it to null', () => {
    const next = patchRecord(record(), {
      saga: { run: 2, input: { b: 2 }, resetResults: true, deadlineAt: null, status: 'RUNNING' },
      steps: new Map(),
      results: {},
      events: [],
      jobs: [],
      now,
    });
    expect(next.run).toBe(2);
    expect(next.input).toEqual({ b: 2 });
    expect(next.results).toEqual({});
    expect(next.deadlineAt).toBeNull();
  });
});
