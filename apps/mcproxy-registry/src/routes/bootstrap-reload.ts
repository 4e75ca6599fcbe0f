// What a reload of the bootstrap file changes (SIGHUP): the stored bootstrap routes against the
// file's, by listener port and hostname. Routes the file still has unchanged are left alone, so
// their connections go on; a change of backends only is a switch (with SetBackend's drain).
import { backendKey, type Route, type RouteSpec } from "./types.js";

export interface BootstrapChanges {
  /** In the file, not stored (or stored as an API route, which the file replaces, as at start). */
  add: RouteSpec[];
  /** Stored bootstrap routes the file no longer has. */
  remove: Route[];
  /** Same route, other backends. */
  switchBackends: { route: Route; spec: RouteSpec }[];
  /** Other settings changed (mode, certificate, PROXY protocol): removed and added again. */
  replace: { route: Route; spec: RouteSpec }[];
  /** Unchanged. */
  keep: Route[];
}

const keyOf = (r: { listenerPort: number; hostname: string }) => `${r.listenerPort} ${r.hostname}`;

export function bootstrapChanges(stored: readonly Route[], file: readonly RouteSpec[]): BootstrapChanges {
  const changes: BootstrapChanges = { add: [], remove: [], switchBackends: [], replace: [], keep: [] };
  const current = new Map(stored.filter((r) => r.bootstrap).map((r) => [keyOf(r), r]));
  for (const spec of file) {
    const route = current.get(keyOf(spec));
    current.delete(keyOf(spec));
    if (!route) changes.add.push(spec);
    else if (!sameExceptBackends(route, spec)) changes.replace.push({ route, spec });
    else if (backendKey(route.backends) !== backendKey(spec.backends))
      changes.switchBackends.push({ route, spec });
    else changes.keep.push(route);
  }
  changes.remove.push(...current.values());
  return changes;
}

/** Same mode, certificate files and PROXY protocol (what a switch of backends leaves alone). */
export function sameExceptBackends(a: Route, b: RouteSpec): boolean {
  return (
    a.mode === b.mode &&
    a.proxyProtocol === b.proxyProtocol &&
    a.certificate?.certFile === b.certificate?.certFile &&
    a.certificate?.keyFile === b.certificate?.keyFile
  );
}
