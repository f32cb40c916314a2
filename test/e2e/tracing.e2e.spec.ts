import { runRootSpanId, runTraceId } from '../../src/tracing/saga-tracing.js';
import { httpClient } from '../support/http-client.js';
import { Participant } from '../support/participant.js';
import { sagaApi } from '../support/saga-api.js';
import { startOwnServer, type OwnServer } from '../support/own-server.js';
import { otlpReceiver, type ExportedSpan } from '../support/otlp-receiver.js';
import type { ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait-for.js';

const attr = (span: ExportedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

describe('OpenTelemetry traces (OTEL_* configuration)', () => {
  let own: OwnServer;
  let server: ServerProcess;
  let p: Participant;
  let otlp: Awaited<ReturnType<typeof otlpReceiver>>;

  beforeAll(async () => {
    p = await new Participant().start();
    otlp = await otlpReceiver();
    own = await startOwnServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'saga-test',
    });
    server = own.server;
  });
  afterAll(async () => {
    await own.close();
    await otlp.close();
    await p.stop();
  });

  it('should make each run a trace: a root span, a span per attempt and compensation, and continue it at the participant', async () => {
    const api = httpClient(server.baseUrl);
    p.on('/tr2', () => ({ status: 422, body: {} }));
    await api.post('/v1/definitions', {
      name: 'traced',
      steps: [
        { name: 'tr1', action: { type: 'http', url: `${p.url}/tr1` }, compensation: { type: 'http', url: `${p.url}/tr1/undo` } },
        { name: 'tr2', action: { type: 'http', url: `${p.url}/tr2` } },
      ],
    });
    const saga = await sagaApi(api).settled((await api.post('/v1/sagas', { definition: 'traced' })).body.id);
    expect(saga.status).toBe('COMPENSATED');
    const traceId = runTraceId(saga.id, 1);
    const rootId = runRootSpanId(saga.id, 1);
    const mine = () => otlp.spans.filter((s) => s.traceId === traceId);
    await waitFor('the spans of the run', async () => (mine().some((s) => s.name === 'saga.settled') && mine().length >= 5 ? true : undefined));

    const root = mine().find((s) => s.name === 'saga.run')!;
    expect(root).toMatchObject({ spanId: rootId });
    expect(root.parentSpanId || undefined).toBeUndefined();
    expect(attr(root, 'saga.id')).toBe(saga.id);
    const attempts = mine().filter((s) => s.name.startsWith('saga.step '));
    expect(attempts.map((s) => s.name).sort()).toEqual(['saga.step tr1 action', 'saga.step tr1 compensation', 'saga.step tr2 action']);
    for (const span of attempts) expect(span.parentSpanId).toBe(rootId);
    expect(attr(mine().find((s) => s.name === 'saga.settled')!, 'saga.status')).toBe('COMPENSATED');

    // Each participant call carries its attempt's span as traceparent.
    for (const call of p.calls.filter((c) => c.body?.sagaId === saga.id)) {
      const span = attempts.find((s) => s.name === `saga.step ${call.body.step} ${call.body.phase}`)!;
      expect(call.headers.traceparent).toBe(`00-${traceId}-${span.spanId}-01`);
    }
  });
});
