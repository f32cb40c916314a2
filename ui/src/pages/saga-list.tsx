import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, isActive, isTerminal, SAGA_STATUSES, type SagaSummary, type Stats } from '../api';
import { useSession } from '../app';
import { ErrorBox, StatusBadge, usePolling } from '../components';
import { elapsed, formatAge, formatDuration } from '../format';
import { href, navigate } from '../router';

const PAGE_SIZE = 25;
/** Refresh period while sagas run, and while none does (a saga may start elsewhere). */
const REFRESH_MS = 2000;
const IDLE_REFRESH_MS = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Sagas, newest first: counts per status, filters, search, pages; refreshes itself while sagas run. */
export function SagaList({ params }: { params: URLSearchParams }) {
  const { api, can } = useSession();
  const status = params.get('status') ?? '';
  const definition = params.get('definition') ?? '';
  const correlationId = params.get('correlationId') ?? '';
  const filterKey = `${status}|${definition}|${correlationId}`;

  const [stats, setStats] = useState<Stats | null>(null);
  const [definitions, setDefinitions] = useState<string[]>([]);
  const [page, setPage] = useState<{ items: SagaSummary[]; nextCursor: string | null } | null>(null);
  // Cursors of the pages before this one (the first page's is null), and this page's.
  const [previous, setPrevious] = useState<Array<string | null>>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [search, setSearch] = useState(correlationId);

  useEffect(() => {
    setPrevious([]);
    setCursor(null);
    setSearch(correlationId);
  }, [filterKey, correlationId]);

  // Only the latest request's answer is shown (a filter change can overtake a refresh).
  const latest = useRef(0);
  const load = useCallback(async () => {
    const request = ++latest.current;
    try {
      const [s, p] = await Promise.all([
        api.stats(),
        api.sagas({ status: status || undefined, definition: definition || undefined, correlationId: correlationId || undefined, cursor, limit: PAGE_SIZE }),
      ]);
      if (request !== latest.current) return;
      setStats(s);
      setPage(p);
      setError(null);
      setUpdatedAt(Date.now());
    } catch (e) {
      if (request === latest.current) setError(e);
    }
  }, [api, status, definition, correlationId, cursor]);

  useEffect(() => {
    void load();
  }, [load]);

  // The filter's choices; a key without definitions:read filters by the names in the URL only.
  const readsDefinitions = can('definitions:read');
  useEffect(() => {
    if (!readsDefinitions) return;
    api.definitions(null).then(
      (p) => setDefinitions(p.items.map((d) => d.name)),
      () => setDefinitions([]),
    );
  }, [api, readsDefinitions]);

  const live = Boolean(page?.items.some((s) => isActive(s.status)) || (stats && SAGA_STATUSES.some((s) => isActive(s) && stats.byStatus[s] > 0)));
  usePolling(true, live ? REFRESH_MS : IDLE_REFRESH_MS, () => void load());

  const setFilter = (changes: Record<string, string>) => navigate('/sagas', { status, definition, correlationId, ...changes });

  async function onSearch(e: React.FormEvent) {
    e.preventDefault();
    const q = search.trim();
    if (UUID.test(q)) {
      try {
        await api.saga(q);
        navigate(`/sagas/${q}`);
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) return setError(err);
        // Not a saga id: it may still be a correlation id.
      }
    }
    setFilter({ correlationId: q });
  }

  return (
    <section>
      <div className="page-head">
        <h1>Sagas</h1>
        <span className="muted refresh" data-testid="refresh-state">
          {live ? 'Sagas running: refreshing every 2 s' : 'Refreshing every 10 s'}
          {updatedAt ? ` · ${new Date(updatedAt).toLocaleTimeString()}` : ''}
        </span>
      </div>

      <div className="counts" data-testid="counts">
        <button type="button" className={`count ${status === '' ? 'selected' : ''}`} onClick={() => setFilter({ status: '' })}>
          <span className="count-n">{stats?.total ?? '–'}</span>
          <span className="count-label">All</span>
        </button>
        {SAGA_STATUSES.map((s) => (
          <button type="button" key={s} className={`count count-${s.toLowerCase()} ${status === s ? 'selected' : ''}`} data-status={s} onClick={() => setFilter({ status: s })}>
            <span className="count-n">{stats ? stats.byStatus[s] : '–'}</span>
            <span className="count-label">{s}</span>
          </button>
        ))}
      </div>

      <div className="filters">
        <label>
          Status
          <select name="status" value={status} onChange={(e) => setFilter({ status: e.target.value })}>
            <option value="">All statuses</option>
            {SAGA_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Definition
          <select name="definition" value={definition} onChange={(e) => setFilter({ definition: e.target.value })}>
            <option value="">All definitions</option>
            {[...new Set([...definitions, ...(definition ? [definition] : [])])].map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <form className="search" onSubmit={onSearch}>
          <label>
            Saga id or correlation id
            <input name="search" type="search" value={search} placeholder="e.g. order-42" onChange={(e) => setSearch(e.target.value)} />
          </label>
          <button type="submit">Search</button>
          {correlationId && (
            <button type="button" className="link" onClick={() => setFilter({ correlationId: '' })}>
              Clear
            </button>
          )}
        </form>
      </div>

      <ErrorBox error={error} />

      <table className="table" data-testid="saga-table">
        <thead>
          <tr>
            <th>Status</th>
            <th>Definition</th>
            <th>Version</th>
            <th>Correlation id</th>
            <th>Current step</th>
            <th>Age</th>
            <th>Duration</th>
            <th>Saga id</th>
          </tr>
        </thead>
        <tbody>
          {page?.items.map((saga) => (
            <tr key={saga.id} data-testid="saga-row" data-saga-id={saga.id} className="clickable" onClick={() => navigate(`/sagas/${saga.id}`)}>
              <td>
                <StatusBadge status={saga.status} />
              </td>
              <td>{saga.definition}</td>
              <td>v{saga.version}</td>
              <td>{saga.correlationId ?? <span className="muted">–</span>}</td>
              <td>
                {saga.currentStep && !isTerminal(saga.status) ? saga.currentStep : <span className="muted">–</span>}
                {saga.currentStep && !isTerminal(saga.status) && saga.phase === 'compensation' && <span className="tag">compensation</span>}
              </td>
              <td title={saga.createdAt}>{formatAge(saga.createdAt)}</td>
              <td>{formatDuration(elapsed(saga.createdAt, saga.finishedAt) ?? NaN)}</td>
              <td>
                <a href={href(`/sagas/${saga.id}`)} className="mono" onClick={(e) => e.stopPropagation()}>
                  {saga.id.slice(0, 8)}
                </a>
              </td>
            </tr>
          ))}
          {page && page.items.length === 0 && (
            <tr>
              <td colSpan={8} className="muted empty">
                No sagas match.
              </td>
            </tr>
          )}
        </tbody>
      </table>

      <div className="pager">
        <button
          type="button"
          disabled={previous.length === 0}
          onClick={() => {
            setCursor(previous[previous.length - 1]);
            setPrevious(previous.slice(0, -1));
          }}
        >
          ← Newer
        </button>
        <span className="muted">Page {previous.length + 1}</span>
        <button
          type="button"
          disabled={!page?.nextCursor}
          onClick={() => {
            setPrevious([...previous, cursor]);
            setCursor(page!.nextCursor);
          }}
        >
          Older →
        </button>
      </div>
    </section>
  );
}
