import { useEffect, useState } from 'react';

/** A location inside the dashboard: `#/sagas/abc?run=2` → path "/sagas/abc", params run=2. */
export interface Route {
  path: string;
  params: URLSearchParams;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/sagas';
  const [path, search = ''] = raw.split('?', 2);
  return { path, params: new URLSearchParams(search) };
}

/** The current route; hash routing, so the server serves one page and links survive reloads. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The href of a route; empty parameters are left out. */
export function href(path: string, params: Record<string, string | number | null | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const query = search.toString();
  return `#${path}${query ? `?${query}` : ''}`;
}

export function navigate(path: string, params: Record<string, string | number | null | undefined> = {}): void {
  window.location.hash = href(path, params);
}
