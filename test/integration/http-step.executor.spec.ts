import { executeHttpStep, StepEnvelope } from '../../src/workers/http-step.executor.js';
import { Participant } from '../support/participant.js';

const envelope: StepEnvelope = {
  sagaId: '6f1c1f7e-0000-4000-8000-000000000001', run: 1, step: 's', phase: 'action', attempt: 1,
  idempotencyKey: '6f1c1f7e-0000-4000-8000-000000000001:1:s:action', input: {}, results: {},
};

describe(executeHttpStep.name, () => {
  let p: Participant;
  beforeAll(async () => {
    p = await new Participant().start();
  });
  afterAll(async () => {
    await p.stop();
  });

  const call = (path: string, timeoutMs = 2000) =>
    executeHttpStep({ method: 'PUT', url: `${p.url}${path}`, headers: { 'x-extra': 'yes' } }, envelope, timeoutMs);

  it.each([408, 425, 429, 500, 502, 503, 504])('should classify %i as retryable, keeping the body', async (status) => {
    p.on(`/s${status}`, () => ({ status, body: { why: 'busy' } }));
    const result = await call(`/s${status}`);
    expect(result).toEqual({ ok: false, failure: expect.objectContaining({ retryable: true, timedOut: false, details: { status, body: { why: 'busy' } } }) });
  });

  it.each([400, 401, 403, 404, 409, 422])('should classify %i as permanent', async (status) => {
    p.on(`/p${status}`, () => ({ status, body: { no: true } }));
    const result = await call(`/p${status}`);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.failure).toMatchObject({ retryable: false, timedOut: false });
  });

  it('should return a 2xx JSON body as the output, and an empty body as null', async () => {
    p.on('/json', () => ({ status: 201, body: { id: 1 } }));
    p.on('/empty', () => ({ status: 204 }));
    expect(await call('/json')).toEqual({ ok: true, output: { id: 1 } });
    expect(await call('/empty')).toEqual({ ok: true, output: null });
  });

  it('should send the method, the step headers and the reserved headers', async () => {
    await call('/json');
    const last = p.callsTo('/json').at(-1)!;
    expect(last.method).toBe('PUT');
    expect(last.headers['x-extra']).toBe('yes');
    expect(last.headers['idempotency-key']).toBe(envelope.idempotencyKey);
    expect(last.body).toEqual(envelope);
  });

  it('should fail for good on a response over 256 KiB', async () => {
    p.on('/huge', () => ({ status: 200, body: { blob: 'x'.repeat(300 * 1024) } }));
    const result = await call('/huge');
    expect(!result.ok && result.failure).toMatchObject({ retryable: false, message: expect.stringMatching(/256 KiB/) });
  });

  it('should abort at the timeout and report it as a retryable timeout', async () => {
    p.on('/hang', () => 'hang');
    const started = Date.now();
    const result = await call('/hang', 200);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(!result.ok && result.failure).toMatchObject({ retryable: true, timedOut: true });
  });

  it('should report a refused connection as retryable, not a timeout', async () => {
    const result = await executeHttpStep({ method: 'POST', url: 'http://127.0.0.1:1/x', headers: {} }, envelope, 2000);
    expect(!result.ok && result.failure).toMatchObject({ retryable: true, timedOut: false });
  });

  it('should not follow redirects', async () => {
    p.on('/moved', () => ({ status: 302, body: {} }));
    const result = await call('/moved');
    expect(!result.ok && result.failure).toMatchObject({ retryable: false, details: expect.objectContaining({ status: 302 }) });
  });
});
