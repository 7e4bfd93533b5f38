// Small React glue for RxJS observables.
import { useEffect, useState } from 'react';
import type { Observable } from 'rxjs';

/**
 * Subscribes to the observable `make()` returns while `deps` are unchanged and
 * returns its latest value (`initial` until the first emission). A new
 * subscription starts from `initial` again so stale rows never flash under a new
 * query.
 */
export function useObservable<T>(make: () => Observable<T> | null, deps: readonly unknown[], initial: T): T {
  const [state, setState] = useState<{ deps: readonly unknown[]; value: T }>({ deps, value: initial });
  useEffect(() => {
    const source = make();
    setState({ deps, value: initial });
    if (!source) return undefined;
    const sub = source.subscribe({
      next: (value) => setState({ deps, value }),
      error: (err: unknown) => console.error('demo: view failed', err),
    });
    return () => sub.unsubscribe();
  }, deps);
  return sameDeps(state.deps, deps) ? state.value : initial;
}

function sameDeps(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}
