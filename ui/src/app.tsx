import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, createApi, dashboardConfig, type Api, type Principal } from './api';
import { ErrorBox, Loading } from './components';
import { DefinitionDetail, DefinitionList } from './pages/definitions';
import { SagaDetail } from './pages/saga-detail';
import { SagaList } from './pages/saga-list';
import { href, useRoute } from './router';

const KEY_STORAGE = 'saga-orchestrator.api-key';

interface Session {
  api: Api;
  principal: Principal;
  /** Whether the key may do what `scope` allows: buttons it may not use are hidden. */
  can(scope: string): boolean;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the signed-in dashboard');
  return session;
}

type Gate = { state: 'checking' } | { state: 'ask'; message: string | null } | { state: 'in'; key: string | null; principal: Principal } | { state: 'error'; error: unknown };

/** Asks for an API key once, keeps it for the browser session (sessionStorage), and checks it. */
export function App() {
  const [gate, setGate] = useState<Gate>({ state: 'checking' });

  const signIn = useCallback(async (key: string | null, failMessage: string | null) => {
    setGate({ state: 'checking' });
    try {
      const principal = await createApi(key).currentKey();
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      setGate({ state: 'in', key, principal });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        sessionStorage.removeItem(KEY_STORAGE);
        setGate({ state: 'ask', message: failMessage });
      } else {
        setGate({ state: 'error', error });
      }
    }
  }, []);

  useEffect(() => {
    void (async () => {
      const stored = sessionStorage.getItem(KEY_STORAGE);
      try {
        const { authRequired } = await dashboardConfig();
        if (!authRequired) return await signIn(null, null);
        if (stored) return await signIn(stored, 'The saved API key no longer works. Enter a key.');
        setGate({ state: 'ask', message: null });
      } catch (error) {
        setGate({ state: 'error', error });
      }
    })();
  }, [signIn]);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(KEY_STORAGE);
    setGate({ state: 'ask', message: null });
  }, []);

  const session = useMemo<Session | null>(() => {
    if (gate.state !== 'in') return null;
    const api = createApi(gate.key, () => {
      sessionStorage.removeItem(KEY_STORAGE);
      setGate({ state: 'ask', message: 'The API key stopped working (revoked or expired). Enter a key.' });
    });
    return { api, principal: gate.principal, can: (scope) => gate.principal.scopes.includes(scope) };
  }, [gate]);

  if (gate.state === 'checking') return <Shell><Loading /></Shell>;
  if (gate.state === 'error') return <Shell><ErrorBox error={gate.error} /></Shell>;
  if (gate.state === 'ask') return <Shell><KeyPrompt message={gate.message} onKey={(key) => void signIn(key, 'That API key is unknown, expired or revoked.')} /></Shell>;
  return (
    <SessionContext.Provider value={session}>
      <Shell principal={gate.principal} onSignOut={gate.key ? signOut : undefined}>
        <Pages />
      </Shell>
    </SessionContext.Provider>
  );
}

function Shell({ children, principal, onSignOut }: { children: React.ReactNode; principal?: Principal; onSignOut?: () => void }) {
  const { path } = useRoute();
  return (
    <>
      <header className="topbar">
        <a className="brand" href={href('/sagas')}>
          Saga orchestrator
        </a>
        {principal && (
          <nav>
            <a href={href('/sagas')} className={path.startsWith('/sagas') ? 'active' : ''}>
              Sagas
            </a>
            {principal.scopes.includes('definitions:read') && (
              <a href={href('/definitions')} className={path.startsWith('/definitions') ? 'active' : ''}>
                Definitions
              </a>
            )}
          </nav>
        )}
        {principal && (
          <div className="who" title={principal.scopes.join(', ')}>
            <span data-testid="key-name">{principal.name}</span>
            {onSignOut && (
              <button type="button" className="link" onClick={onSignOut}>
                Forget key
              </button>
            )}
          </div>
        )}
      </header>
      <main>{children}</main>
    </>
  );
}

function KeyPrompt({ message, onKey }: { message: string | null; onKey: (key: string) => void }) {
  const [key, setKey] = useState('');
  return (
    <form
      className="card key-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) onKey(key.trim());
      }}
    >
      <h1>Sign in with an API key</h1>
      <p className="muted">The key is kept in this browser tab until you close it. Buttons your key's scopes do not allow are hidden.</p>
      {message && (
        <div className="error-box" role="alert">
          {message}
        </div>
      )}
      <label>
        API key
        <input name="api-key" type="password" autoComplete="off" autoFocus value={key} onChange={(e) => setKey(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={!key.trim()}>
        Continue
      </button>
    </form>
  );
}

function Pages() {
  const route = useRoute();
  const parts = route.path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'sagas' && parts[1]) return <SagaDetail key={parts[1]} id={parts[1]} params={route.params} />;
  if (parts[0] === 'definitions' && parts[1]) return <DefinitionDetail key={parts[1]} name={parts[1]} params={route.params} />;
  if (parts[0] === 'definitions') return <DefinitionList />;
  return <SagaList params={route.params} />;
}
