import { useCallback, useEffect, useRef, useState } from 'react';
import { CANCELLABLE, isActive, REPLAYABLE, type Saga, type SagaEvent } from '../api';
import { useSession } from '../app';
import { ConfirmDialog, ErrorBox, JsonView, Loading, SignalDialog, StatusBadge, usePolling } from '../components';
import { elapsed, formatDuration, formatTime } from '../format';
import { href, navigate } from '../router';
import { buildTimeline, runsOf, sectionsOf, type Bar } from '../timeline';

const REFRESH_MS = 1000;

/** One saga: its run as a timeline, steps with their JSON, the full history; Replay and Cancel. */
export function SagaDetail({ id, params }: { id: string; params: URLSearchParams }) {
  const { api, can } = useSession();
  const [saga, setSaga] = useState<Saga | null>(null);
  const [events, setEvents] = useState<SagaEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [dialog, setDialog] = useState<'replay' | 'cancel' | null>(null);
  const [signalFor, setSignalFor] = useState<{ step: string; signal: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const lastSeq = useRef(0);
  // One load at a time: two would fetch the same new events twice.
  const loading = useRef<Promise<void> | null>(null);

  const load = useCallback((): Promise<void> => {
    if (!loading.current) loading.current = fetchAll().finally(() => (loading.current = null));
    return loading.current;
  }, [api, id]);

  async function fetchAll(): Promise<void> {
    try {
      const next = await api.saga(id);
      // The history only grows: fetch what is new since the last seq seen.
      const added: SagaEvent[] = [];
      for (let page = await api.events(id, lastSeq.current); ; page = await api.events(id, lastSeq.current)) {
        added.push(...page.items);
        if (page.items.length) lastSeq.current = page.items[page.items.length - 1].seq;
        if (!page.nextCursor) break;
      }
      setSaga(next);
      if (added.length) setEvents((old) => [...old, ...added]);
      setNow(Date.now());
      setError(null);
    } catch (e) {
      setError(e);
    }
  }

  useEffect(() => {
    void load();
  }, [load]);
  usePolling(Boolean(saga && isActive(saga.status)), REFRESH_MS, () => void load());

  if (!saga) return error ? <ErrorBox error={error} /> : <Loading />;

  const seenRuns = runsOf(events);
  const runs = seenRuns.length ? seenRuns : [saga.run];
  const run = Number(params.get('run') ?? saga.run);
  const selectedRun = runs.includes(run) ? run : saga.run;
  const current = selectedRun === saga.run;
  const canReplay = REPLAYABLE.includes(saga.status);
  const canCancel = CANCELLABLE.includes(saga.status);

  return (
    <section>
      <div className="page-head">
        <h1>
          <a href={href('/sagas')} className="crumb">
            Sagas
          </a>{' '}
          / <span className="mono">{saga.id}</span>
        </h1>
        <div className="actions">
          {can('sagas:replay') && (
            <button type="button" className="primary" disabled={!canReplay} title={canReplay ? '' : `A ${saga.status} saga cannot be replayed (SPEC §5).`} onClick={() => setDialog('replay')}>
              Replay
            </button>
          )}
          {can('sagas:write') && (
            <button type="button" className="danger" disabled={!canCancel} title={canCancel ? '' : `A ${saga.status} saga cannot be cancelled.`} onClick={() => setDialog('cancel')}>
              Cancel saga
            </button>
          )}
        </div>
      </div>

      {notice && (
        <div className="notice" role="status">
          {notice}
        </div>
      )}
      <ErrorBox error={error} />

      <div className="card summary">
        <dl>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={saga.status} />
          </dd>
          <dt>Definition</dt>
          <dd>
            {can('definitions:read') ? (
              <a href={href(`/definitions/${saga.definition}`, { version: saga.version })}>
                {saga.definition} v{saga.version}
              </a>
            ) : (
              `${saga.definition} v${saga.version}`
            )}
          </dd>
          <dt>Correlation id</dt>
          <dd>{saga.correlationId ?? '–'}</dd>
          <dt>Run</dt>
          <dd>
            {runs.length > 1 ? (
              <select name="run" value={selectedRun} onChange={(e) => navigate(`/sagas/${saga.id}`, { run: e.target.value })} aria-label="Run">
                {runs.map((r) => (
                  <option key={r} value={r}>
                    Run {r}
                    {r === saga.run ? ' (latest)' : ''}
                  </option>
                ))}
              </select>
            ) : (
              selectedRun
            )}
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(saga.createdAt)}</dd>
          <dt>Finished</dt>
          <dd>{formatTime(saga.finishedAt)}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(elapsed(saga.createdAt, saga.finishedAt, now) ?? NaN)}</dd>
        </dl>
        {saga.error && (
          <div className="error-box">
            <strong>{saga.error.code}</strong>: {saga.error.message}
          </div>
        )}
      </div>

      <h2>Timeline{runs.length > 1 ? ` · run ${selectedRun}` : ''}</h2>
      <TimelineView events={events} run={selectedRun} now={isActive(saga.status) ? now : Date.parse(saga.updatedAt)} />

      <h2>Steps{current ? '' : ` · as of the latest run (${saga.run})`}</h2>
      <table className="table steps">
        <thead>
          <tr>
            <th>#</th>
            <th>Step</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Started</th>
            <th>Duration</th>
            <th>Compensation</th>
            <th>Output and errors</th>
          </tr>
        </thead>
        <tbody>
          {saga.steps.map((step, i) => (
            <tr key={step.name} data-testid="step-row">
              <td>{i + 1}</td>
              <td>
                {step.name}
                {(step.group !== null || step.kind !== 'compensatable') && (
                  <div className="muted small" data-testid="step-place">
                    {[step.group !== null ? `${step.group} · branch ${(step.branch ?? 0) + 1}` : null, step.kind !== 'compensatable' ? step.kind : null].filter(Boolean).join(' · ')}
                  </div>
                )}
              </td>
              <td>
                <StatusBadge status={step.status} />
                {step.waitingOnCircuit && <div className="muted small">waiting for {step.waitingOnCircuit.host} (circuit open)</div>}
                {step.waitingFor && (
                  <div className="muted small" data-testid="waiting-for">
                    {step.waitingFor.type === 'signal' ? (
                      <>
                        waiting for the signal <span className="mono">{step.waitingFor.signal}</span>
                      </>
                    ) : (
                      'waiting for its callback'
                    )}
                  </div>
                )}
                {step.waitingFor?.type === 'signal' && can('sagas:signal') && (
                  <button type="button" className="small-button" onClick={() => setSignalFor({ step: step.name, signal: (step.waitingFor as { signal: string }).signal })}>
                    Send signal…
                  </button>
                )}
              </td>
              <td>{step.attempts}</td>
              <td>{formatTime(step.startedAt)}</td>
              <td>{step.startedAt ? formatDuration(elapsed(step.startedAt, step.finishedAt, now) ?? NaN) : '–'}</td>
              <td>
                {step.compensation ? (
                  <>
                    <StatusBadge status={step.compensation.status} /> <span className="muted small">{step.compensation.attempts} attempt(s)</span>
                  </>
                ) : (
                  <span className="muted">–</span>
                )}
              </td>
              <td>
                {step.output !== null && <JsonView label="Output" value={step.output} />}
                {step.error !== null && <JsonView label="Error" value={step.error} />}
                {step.compensation?.error != null && <JsonView label="Compensation error" value={step.compensation.error} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Input and results</h2>
      <div className="card">
        <JsonView label="Input" value={saga.input} open />
        <JsonView label="Results" value={saga.results} />
      </div>

      <h2>History</h2>
      <table className="table events" data-testid="events">
        <thead>
          <tr>
            <th>Seq</th>
            <th>Run</th>
            <th>Time</th>
            <th>Event</th>
            <th>Step</th>
            <th>Phase</th>
            <th>Attempt</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {events
            .filter((e) => e.run === selectedRun)
            .map((e) => (
              <tr key={e.seq} data-testid="event-row">
                <td>{e.seq}</td>
                <td>{e.run}</td>
                <td className="nowrap">{formatTime(e.at)}</td>
                <td>{e.type}</td>
                <td>{e.step ?? '–'}</td>
                <td>{e.phase ?? '–'}</td>
                <td>{e.attempt ?? '–'}</td>
                <td>{e.data && Object.keys(e.data).length > 0 ? <JsonView label="data" value={e.data} /> : <span className="muted">–</span>}</td>
              </tr>
            ))}
        </tbody>
      </table>

      {dialog === 'replay' && (
        <ConfirmDialog
          title="Replay this saga?"
          description={replayText(saga.status)}
          confirmLabel="Replay"
          withInput={saga.status === 'COMPENSATED'}
          onClose={() => setDialog(null)}
          onConfirm={async (values) => {
            const next = await api.replay(saga.id, values);
            setNotice(`Replayed: the saga is ${next.status} (run ${next.run}).`);
            await load();
            if (next.run !== selectedRun) navigate(`/sagas/${saga.id}`, { run: next.run });
          }}
        />
      )}
      {signalFor && (
        <SignalDialog
          signal={signalFor.signal}
          step={signalFor.step}
          onClose={() => setSignalFor(null)}
          onConfirm={async (body) => {
            await api.signal(saga.id, signalFor.signal, body);
            setNotice(`Signal “${signalFor.signal}” sent (${body.status}).`);
            await load();
          }}
        />
      )}
      {dialog === 'cancel' && (
        <ConfirmDialog
          title="Cancel this saga?"
          description="Its completed steps are compensated in reverse order (error code CANCELLED). A step in flight finishes first; a step waiting for a signal or a callback stops waiting at once."
          confirmLabel="Cancel saga"
          danger
          onClose={() => setDialog(null)}
          onConfirm={async (values) => {
            const next = await api.cancel(saga.id, { reason: values.reason });
            setNotice(`Cancel requested: the saga is ${next.status}.`);
            await load();
          }}
        />
      )}
    </section>
  );
}

function replayText(status: string): string {
  if (status === 'PAUSED') return 'The failed step runs again with a fresh attempt budget, then the saga continues forward.';
  if (status === 'FAILED') return 'The failed compensation runs again with a fresh attempt budget, then compensation continues in reverse order.';
  return 'A new run of the saga starts from the first step, with new idempotency keys. The history keeps every run.';
}

/** Bars in time order on a shared time axis: forward steps, a group's branches as parallel lanes, then the reverse unwinding (a group's branch by branch). */
function TimelineView({ events, run, now }: { events: SagaEvent[]; run: number; now: number }) {
  const timeline = buildTimeline(events, run, now);
  if (timeline.bars.length === 0) return <p className="muted">No step has started in this run.</p>;
  const span = Math.max(timeline.end - timeline.start, 1);
  const pct = (t: number) => ((t - timeline.start) / span) * 100;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div className="timeline card" data-testid="timeline">
      <div className="timeline-row axis">
        <div className="timeline-label" />
        <div className="timeline-track">
          {ticks.map((f) => (
            <span key={f} className="tick" style={{ left: `${f * 100}%` }}>
              {formatDuration(f * span)}
            </span>
          ))}
        </div>
        <div className="timeline-duration" />
      </div>
      {sectionsOf(timeline).map((section, s) =>
        section.group === null ? (
          section.lanes[0].bars.map((bar, i) => <BarRow key={`${s}.${i}`} bar={bar} pct={pct} />)
        ) : (
          <div className="timeline-group" key={s} data-testid="timeline-group" data-group={section.group} data-phase={section.phase}>
            <div className="timeline-group-title">
              {section.group} <span className="muted small">{section.phase === 'compensation' ? 'unwinding, branch by branch' : `${section.lanes.length} branches at once`}</span>
            </div>
            {section.lanes.map((lane) => (
              <div className="timeline-lane" key={lane.branch} data-testid="timeline-lane" data-branch={lane.branch ?? ''}>
                <div className="timeline-lane-title muted small">branch {(lane.branch ?? 0) + 1}</div>
                {lane.bars.map((bar, i) => (
                  <BarRow key={i} bar={bar} pct={pct} />
                ))}
              </div>
            ))}
          </div>
        ),
      )}
      <div className="legend">
        <span className="legend-item"><span className="swatch bar-action bar-succeeded" /> step succeeded</span>
        <span className="legend-item"><span className="swatch bar-compensation bar-succeeded" /> compensation succeeded</span>
        <span className="legend-item"><span className="swatch bar-failed" /> attempt failed</span>
        <span className="legend-item"><span className="swatch bar-running" /> running</span>
        <span className="legend-item"><span className="swatch bar-wait" /> retry backoff</span>
      </div>
    </div>
  );
}

function BarRow({ bar, pct }: { bar: Bar; pct: (t: number) => number }) {
  return (
    <div className="timeline-row">
      <div className="timeline-label" title={barTitle(bar)}>
        <span className={`phase-dot ${bar.phase}`} />
        {bar.step}
        <span className="muted small">
          {' '}
          {bar.kind === 'wait' ? `backoff before #${bar.attempt}` : `${bar.phase === 'compensation' ? 'compensation' : 'action'} #${bar.attempt}`}
        </span>
      </div>
      <div className="timeline-track">
        <div
          className={`bar bar-${bar.kind} bar-${bar.phase} bar-${bar.outcome}`}
          data-testid="timeline-bar"
          data-step={bar.step}
          data-phase={bar.phase}
          data-kind={bar.kind}
          data-attempt={bar.attempt}
          data-outcome={bar.outcome}
          data-group={bar.group ?? ''}
          data-branch={bar.branch ?? ''}
          style={{ left: `${pct(bar.start)}%`, width: `max(${pct(bar.end) - pct(bar.start)}%, 3px)` }}
          title={barTitle(bar)}
        />
      </div>
      <div className="timeline-duration">{formatDuration(bar.end - bar.start)}</div>
    </div>
  );
}

function barTitle(bar: Bar): string {
  const what = bar.kind === 'wait' ? `backoff before attempt ${bar.attempt}` : `${bar.phase} attempt ${bar.attempt}: ${bar.outcome}`;
  const error = bar.error && typeof bar.error === 'object' && 'message' in bar.error ? ` (${String((bar.error as { message: unknown }).message)})` : '';
  return `${bar.step}: ${what}, ${formatDuration(bar.end - bar.start)}${bar.estimatedStart ? ', start as scheduled' : ''}${error}`;
}
