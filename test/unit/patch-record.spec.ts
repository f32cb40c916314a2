import { patchRecord } from '../../src/executions/patch-record.js';
import { newSagaRecord, type SagaRecord } from '../../src/executions/saga.records.js';

/** A RUNNING saga at step 0, attempt 1, with a stop requested and a circuit wait recorded. */
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
      deadlineAt: new Date('2026-01-01T00:00:00Z'),
      stepNames: ['first', 'second'],
    },
    { status: 'RUNNING', cursor: 0, phase: 'action', attempt: 1, awaiting: true },
    new Map(),
    4,
    new Date('2025-01-01T00:00:00Z'),
  ),
  results: { first: { x: 1 } },
  stopRequested: { code: 'CANCELLED', message: 'stop' } as SagaRecord['stopRequested'],
  circuitWait: { host: 'h', until: 'later' },
  version: 3,
});

describe(patchRecord.name, () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('should set present fields (null included), keep absent ones, and move version and next_seq on', () => {
    const r = record();
    const next = patchRecord(r, {
      saga: { cursor: 1, attempt: 1, stopRequested: null },
      steps: new Map([[1, { status: 'RUNNING', attempts: 1, startedAt: now }]]),
      results: { second: { y: 2 } },
      events: [{ type: 'StepStarted' as never }, { type: 'StepSucceeded' as never }],
      jobs: [{ queue: 'saga-steps', jobId: 'j', notBefore: '2026-06-01T00:00:01.000Z', data: {} as never }],
      now,
    });
    expect(next).toMatchObject({ cursor: 1, attempt: 1, phase: 'action', status: 'RUNNING', stopRequested: null, error: null, awaiting: true });
    expect(next.deadlineAt).toEqual(r.deadlineAt);
    expect(next.results).toEqual({ first: { x: 1 }, second: { y: 2 } });
    expect(next.version).toBe(4);
    expect(next.nextSeq).toBe(r.nextSeq + 2);
    expect(next.circuitWait).toBeNull();
    expect(next.notBefore).toEqual(new Date('2026-06-01T00:00:01.000Z'));
    expect(next.updatedAt).toBe(now);
    expect(next.steps[0]).toEqual(r.steps[0]);
    expect(next.steps[1]).toMatchObject({ status: 'RUNNING', attempts: 1, startedAt: now.toISOString(), finishedAt: null });
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
