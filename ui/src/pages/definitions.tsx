import { structuredPatch } from 'diff';
import { useEffect, useState } from 'react';
import type { Action, Definition } from '../api';
import { useSession } from '../app';
import { ErrorBox, Loading } from '../components';
import { formatDuration, formatTime } from '../format';
import { href, navigate } from '../router';

/** The latest version of every definition. */
export function DefinitionList() {
  const { api } = useSession();
  const [items, setItems] = useState<Definition[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function load(cursor: string | null) {
    try {
      const page = await api.definitions(cursor);
      setItems((old) => (cursor ? [...(old ?? []), ...page.items] : page.items));
      setNext(page.nextCursor);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    void load(null);
  }, [api]);

  return (
    <section>
      <div className="page-head">
        <h1>Definitions</h1>
      </div>
      <ErrorBox error={error} />
      {!items && !error && <Loading />}
      {items && (
        <table className="table" data-testid="definition-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Latest version</th>
              <th>Steps</th>
              <th>On step failure</th>
              <th>State</th>
              <th>Description</th>
              <th>Registered</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.name} className="clickable" data-testid="definition-row" onClick={() => navigate(`/definitions/${d.name}`)}>
                <td>
                  <a href={href(`/definitions/${d.name}`)} onClick={(e) => e.stopPropagation()}>
                    {d.name}
                  </a>
                </td>
                <td>v{d.version}</td>
                <td>{d.steps.length}</td>
                <td>{d.onStepFailure}</td>
                <td>{d.enabled ? 'enabled' : <span className="tag">disabled</span>}</td>
                <td className="muted">{d.description ?? ''}</td>
                <td className="nowrap">{formatTime(d.createdAt)}</td>
              </tr>
            ))}
            {items.length === 0 && (
              <tr>
                <td colSpan={7} className="muted empty">
                  No definitions yet: register one with POST /v1/definitions.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => void load(next)}>
          Load more
        </button>
      )}
    </section>
  );
}

/** One definition: a version's steps with their effective policies, the version history, a diff between two versions. */
export function DefinitionDetail({ name, params }: { name: string; params: URLSearchParams }) {
  const { api } = useSession();
  const [versions, setVersions] = useState<Definition[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.versions(name).then(
      (r) => setVersions(r.items),
      (e) => setError(e),
    );
  }, [api, name]);

  if (!versions) return error ? <ErrorBox error={error} /> : <Loading />;
  const latest = versions[versions.length - 1];
  const shown = versions.find((v) => v.version === Number(params.get('version'))) ?? latest;
  const to = versions.find((v) => v.version === Number(params.get('to'))) ?? latest;
  const from = versions.find((v) => v.version === Number(params.get('from'))) ?? versions[Math.max(versions.length - 2, 0)];
  const go = (changes: Record<string, number>) =>
    navigate(`/definitions/${name}`, { version: shown.version, from: from.version, to: to.version, ...changes });

  return (
    <section>
      <div className="page-head">
        <h1>
          <a href={href('/definitions')} className="crumb">
            Definitions
          </a>{' '}
          / {name}
        </h1>
        <div className="actions">
          {!latest.enabled && <span className="tag">disabled: new triggers are refused</span>}
          <a href={href('/sagas', { definition: name })}>Sagas of this definition →</a>
        </div>
      </div>

      <div className="card summary">
        <dl>
          <dt>Version</dt>
          <dd>
            <select name="version" value={shown.version} onChange={(e) => go({ version: Number(e.target.value) })} aria-label="Version">
              {versions.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version}
                  {v === latest ? ' (latest)' : ''}
                </option>
              ))}
            </select>
          </dd>
          <dt>Registered</dt>
          <dd>{formatTime(shown.createdAt)}</dd>
          <dt>On step failure</dt>
          <dd>{shown.onStepFailure}</dd>
          <dt>Saga deadline</dt>
          <dd>{shown.timeoutMs ? formatDuration(shown.timeoutMs) : 'none'}</dd>
          <dt>Description</dt>
          <dd>{shown.description ?? '–'}</dd>
        </dl>
      </div>

      <h2>Steps of v{shown.version}</h2>
      <table className="table" data-testid="definition-steps">
        <thead>
          <tr>
            <th>#</th>
            <th>Step</th>
            <th>Action</th>
            <th>Compensation</th>
            <th>Attempts</th>
            <th>Backoff</th>
            <th>Timeout per attempt</th>
          </tr>
        </thead>
        <tbody>
          {shown.steps.map((step, i) => (
            <tr key={step.name}>
              <td>{i + 1}</td>
              <td>{step.name}</td>
              <td>
                <ActionText action={step.action} />
              </td>
              <td>{step.compensation ? <ActionText action={step.compensation} /> : <span className="muted">none</span>}</td>
              <td>{step.retry.maxAttempts}</td>
              <td>
                {step.retry.backoff}, {formatDuration(step.retry.initialDelayMs)} → {formatDuration(step.retry.maxDelayMs)}
              </td>
              <td>{formatDuration(step.timeoutMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Version history</h2>
      <table className="table">
        <thead>
          <tr>
            <th>Version</th>
            <th>Registered</th>
            <th>Steps</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {[...versions].reverse().map((v) => (
            <tr key={v.version}>
              <td>v{v.version}</td>
              <td>{formatTime(v.createdAt)}</td>
              <td>{v.steps.map((s) => s.name).join(' → ')}</td>
              <td>
                <a href={href(`/definitions/${name}`, { version: v.version, from: from.version, to: to.version })}>View</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      {versions.length > 1 && (
        <>
          <h2>Changes between versions</h2>
          <div className="filters">
            <VersionSelect label="From" versions={versions} value={from.version} onChange={(version) => go({ from: version })} />
            <VersionSelect label="To" versions={versions} value={to.version} onChange={(version) => go({ to: version })} />
          </div>
          <DefinitionDiff from={from} to={to} />
        </>
      )}
    </section>
  );
}

function VersionSelect(props: { label: string; versions: Definition[]; value: number; onChange: (version: number) => void }) {
  return (
    <label>
      {props.label}
      <select name={props.label.toLowerCase()} value={props.value} onChange={(e) => props.onChange(Number(e.target.value))}>
        {props.versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version}
          </option>
        ))}
      </select>
    </label>
  );
}

function ActionText({ action }: { action: Action }) {
  if (action.type === 'queue') {
    return (
      <span>
        queue <span className="mono">{action.queue}</span> task <span className="mono">{action.task}</span>
      </span>
    );
  }
  if (action.type === 'signal') {
    return (
      <span>
        waits for the signal <span className="mono">{action.signal}</span>
      </span>
    );
  }
  return (
    <span>
      {action.method} <span className="mono">{action.url}</span>
      {action.headers && Object.keys(action.headers).length > 0 && <span className="muted small"> + {Object.keys(action.headers).length} header(s)</span>}
      {action.body !== undefined && <span className="muted small"> + mapped body</span>}
      {action.completion === 'callback' && <span className="muted small"> · completes by callback</span>}
    </span>
  );
}

/** What a version says, without what differs between any two (number, registration time). */
function specText(d: Definition): string {
  const { version: _v, createdAt: _c, enabled: _e, ...spec } = d;
  return JSON.stringify(spec, null, 2);
}

/** The changed lines with three lines of context around each change, as a unified diff reads. */
function DefinitionDiff({ from, to }: { from: Definition; to: Definition }) {
  const { hunks } = structuredPatch(`v${from.version}`, `v${to.version}`, specText(from), specText(to), undefined, undefined, { context: 3 });
  const lineClass = (line: string) => (line.startsWith('+') ? 'diff-added' : line.startsWith('-') ? 'diff-removed' : 'diff-same');
  return (
    <div className="card">
      {hunks.length === 0 && <p className="muted">v{from.version} and v{to.version} define the same saga.</p>}
      {hunks.length > 0 && (
        <pre className="diff" data-testid="definition-diff">
          {hunks.map((hunk) => (
            <span key={hunk.oldStart} className="diff-hunk">
              <span className="diff-range">{`@@ v${from.version} line ${hunk.oldStart}, v${to.version} line ${hunk.newStart} @@\n`}</span>
              {hunk.lines.map((line, i) => (
                <span key={i} className={lineClass(line)}>
                  {`${line[0] === ' ' ? ' ' : line[0]} ${line.slice(1)}\n`}
                </span>
              ))}
            </span>
          ))}
        </pre>
      )}
    </div>
  );
}
