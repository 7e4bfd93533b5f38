// Evidence collectors for secret-leak checks: every row of every IndexedDB database
// of a factory, a fake localStorage, console output, and errors with their causes.

/** Text form of any value, typed arrays and buffers included (as latin1), for substring search. */
export function deepText(value: unknown, seen = new Set<unknown>()): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  if (seen.has(value)) return '';
  seen.add(value);
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString('latin1');
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  if (value instanceof Error) {
    const own = Object.getOwnPropertyNames(value).map((k) => `${k}=${deepText((value as unknown as Record<string, unknown>)[k], seen)}`);
    return [value.name, value.message, value.stack ?? '', ...own, deepText(value.cause, seen)].join('\n');
  }
  if (value instanceof Map) return [...value.entries()].map(([k, v]) => `${deepText(k, seen)}:${deepText(v, seen)}`).join('\n');
  if (Array.isArray(value) || value instanceof Set) return [...value].map((v) => deepText(v, seen)).join('\n');
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k}:${deepText(v, seen)}`)
    .join('\n');
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Every database name, store, key and value of `factory`, as searchable text. */
export async function dumpIndexedDb(factory: IDBFactory): Promise<{ databases: string[]; text: string; rows: number }> {
  const infos = await factory.databases();
  const parts: string[] = [];
  let rows = 0;
  for (const info of infos) {
    if (!info.name) continue;
    parts.push(`db ${info.name}`);
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = factory.open(info.name as string);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    try {
      for (const store of [...db.objectStoreNames]) {
        const tx = db.transaction(store, 'readonly');
        const os = tx.objectStore(store);
        const [keys, values] = await Promise.all([request(os.getAllKeys()), request(os.getAll())]);
        rows += values.length;
        parts.push(`store ${store}`, deepText(keys), deepText(values));
      }
    } finally {
      db.close();
    }
  }
  return { databases: infos.map((i) => i.name ?? ''), text: parts.join('\n'), rows };
}

/** A Map-backed Storage installed as globalThis.localStorage (and sessionStorage). */
export function installFakeStorage(): { text: () => string; restore: () => void } {
  const make = () => {
    const map = new Map<string, string>();
    const storage = {
      get length() {
        return map.size;
      },
      key: (i: number) => [...map.keys()][i] ?? null,
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, String(v)),
      removeItem: (k: string) => void map.delete(k),
      clear: () => map.clear(),
    };
    return { map, storage };
  };
  const local = make();
  const session = make();
  const g = globalThis as Record<string, unknown>;
  const before = { localStorage: g.localStorage, sessionStorage: g.sessionStorage };
  Object.defineProperty(globalThis, 'localStorage', { value: local.storage, configurable: true, writable: true });
  Object.defineProperty(globalThis, 'sessionStorage', { value: session.storage, configurable: true, writable: true });
  return {
    text: () => deepText([...local.map.entries(), ...session.map.entries()]),
    restore: () => {
      Object.defineProperty(globalThis, 'localStorage', { value: before.localStorage, configurable: true, writable: true });
      Object.defineProperty(globalThis, 'sessionStorage', { value: before.sessionStorage, configurable: true, writable: true });
    },
  };
}
