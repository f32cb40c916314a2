import { patchRecord } from '../../src/executions/patch-record.js';
import type { SagaRecord } from '../../src/executions/saga.repository.js';

const step = (index: number, name: string) => ({
  index,
  name,
  status: 'PENDING' as const,
  attempts: 0,
  lastAttemptTimedOut: false,
  startedAt: null,
  finishedAt: null,
  output: null,
  error: null,
  compensationStatus: null,
  compensationAttempts: 0,
  compensationStartedAt: null,
  compensationFinishedAt: null,
  compensationError: null,
});

const record = (): SagaRecord => ({
  id: '00000000-0000-4000-8000-000000000001',
  definitionName: 'd',
  definitionVersion: 1,
  run: 1,
  status: 'RUNNING',
  input: { a: 1 },
  correlationId: null,
  results: { first: { x: 1 } },
  error: null,
  cursor: 0,
  phase: 'action',
  attempt: 1,
  attemptBase: 0,
  awaiting: true,
  stopRequested: { code: 'CANCELLED', message: 'stop' } as SagaRecord['stopRequested'],
  circuitWait: { host: 'h', until: 'later' },
  notBefore: null,
  deadlineAt: new Date('2026-01-01T00:00:00Z'),
  version: 3,
  nextSeq: 5,
  idempotencyKey: null,
  requestHash: null,
  createdAt: new Date('2025-01-01T00:00:00Z'),
  updatedAt: new Date('2025-01-01T00:00:00Z'),
  finishedAt: null,
  steps: [step(0, 'first'), step(1, 'second')],
});

describe(patchRecord.name, () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('should set present fields (null included), keep absent ones, and move version and next_seq on', () => {
    const r = record();
    const next = patchRecord(
      r,
      { cursor: 1, attempt: 1, stopRequested: null },
      new Map([[1, { status: 'RUNNING', attempts: 1, startedAt: now }]]),
      { second: { y: 2 } },
      [{ type: 'StepStarted' as never }, { type: 'StepSucceeded' as never }],
      [{ queue: 'saga-steps', jobId: 'j', notBefore: '2026-06-01T00:00:01.000Z', data: {} as never }],
      now,
    );
    expect(next).toMatchObject({ cursor: 1, attempt: 1, phase: 'action', status: 'RUNNING', stopRequested: null, error: null, awaiting: true });
    expect(next.deadlineAt).toEqual(r.deadlineAt);
    expect(next.results).toEqual({ first: { x: 1 }, second: { y: 2 } });
    expect(next.version).toBe(4);
    expect(next.nextSeq).toBe(7);
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
    const next = patchRecord(record(), { run: 2, input: { b: 2 }, resetResults: true, deadlineAt: null, status: 'RUNNING' }, new Map(), {}, [], [], now);
    expect(next.run).toBe(2);
    expect(next.input).toEqual({ b: 2 });
    expect(next.results).toEqual({});
    expect(next.deadlineAt).toBeNull();
  });
});
