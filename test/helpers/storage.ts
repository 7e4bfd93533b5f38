// The storage backend the suites run on: fake-indexeddb by default, SQLite with
// SENDMUX_TEST_STORAGE=sqlite (the `sqlite` vitest project). Engines and inspectors
// given the same TestStore share one replica, as two tabs of one origin (or two
// processes on one file) do.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import type { ReplicaStorage } from '../../src/store/storage.js';
import { sqliteStorage } from '../../src/store/sqlite/index.js';
import { sqliteDatabaseNames } from '../../src/store/sqlite/core.js';

export type TestBackend = 'indexeddb' | 'sqlite';

/** The backend of this run. */
export const BACKEND: TestBackend = process.env.SENDMUX_TEST_STORAGE === 'sqlite' ? 'sqlite' : 'indexeddb';

/** What to spread into engine or database options. */
export type StoreOptions = { indexedDB: IDBFactory; IDBKeyRange: typeof IDBKeyRange } | { storage: ReplicaStorage };

/** One origin's storage. */
export interface TestStore {
  readonly backend: TestBackend;
  readonly options: StoreOptions;
  /** The databases the store holds (IDBFactory.databases(), or those in the SQLite file). */
  databases(): Promise<{ name: string }[]>;
}

let dir: string | undefined;
let count = 0;

/** A directory for this worker's SQLite files, removed when the process exits. */
export function scratchDir(): string {
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), 'sendmux-test-'));
    dir = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}

/** A fresh, empty store on `backend` (default: this run's). */
export function testStore(backend: TestBackend = BACKEND): TestStore {
  if (backend === 'sqlite') {
    count += 1;
    const path = join(scratchDir(), `replica-${count}.sqlite`);
    return {
      backend,
      options: { storage: sqliteStorage({ path }) },
      async databases() {
        if (!existsSync(path)) return [];
        const db = new Database(path, { readonly: true });
        try {
          return sqliteDatabaseNames(db).map((name) => ({ name }));
        } finally {
          db.close();
        }
      },
    };
  }
  const factory = new IDBFactory();
  return {
    backend,
    options: { indexedDB: factory, IDBKeyRange },
    async databases() {
      return (await factory.databases()).flatMap((d) => (d.name === undefined ? [] : [{ name: d.name }]));
    },
  };
}
