// Browser bundle for the peer figures: the same functions the Node run calls, bound
// to Chromium's real IndexedDB. The runner drives it through page.evaluate.
import { peers } from '../peers/peers.js';
import type { IdbEnv, QueryRun } from '../peers/peers.js';
import { storeDelete, storeFolderQuery, storeIngest } from '../peers/engine-store.js';
import { toPeerRow } from '../peers/shape.js';
import type { Message, PeerRow } from '../peers/shape.js';

const env: IdbEnv = { indexedDB, IDBKeyRange };
let messages: Message[] = [];
let rows: PeerRow[] = [];

/** What the page exposes as `globalThis.__benchPeers`. */
export interface BrowserPeers {
  load(url: string): Promise<number>;
  dexieIngest(name: string): Promise<number>;
  rxdbIngest(name: string): Promise<number>;
  storeIngest(name: string, pageSize: number): Promise<number>;
  dexieFolderQuery(name: string, folderId: string): Promise<QueryRun>;
  rxdbFolderQuery(name: string, folderId: string): Promise<QueryRun>;
  storeFolderQuery(name: string, folderId: string): Promise<QueryRun>;
  remove(kind: 'dexie' | 'rxdb' | 'store', name: string): Promise<void>;
}

const api: BrowserPeers = {
  async load(url) {
    messages = (await (await fetch(url)).json()) as Message[];
    rows = messages.map(toPeerRow);
    return messages.length;
  },
  dexieIngest: (name) => peers.dexieIngest(env, name, rows),
  rxdbIngest: (name) => peers.rxdbIngest(env, name, rows),
  storeIngest: (name, pageSize) => storeIngest(env, name, messages, pageSize),
  dexieFolderQuery: (name, folderId) => peers.dexieFolderQuery(env, name, folderId),
  rxdbFolderQuery: (name, folderId) => peers.rxdbFolderQuery(env, name, folderId),
  storeFolderQuery: (name, folderId) => storeFolderQuery(env, name, folderId),
  async remove(kind, name) {
    if (kind === 'dexie') await peers.dexieDelete(env, name);
    else if (kind === 'rxdb') await peers.rxdbDelete(env, name);
    else await storeDelete(env, name);
  },
};

(globalThis as unknown as { __benchPeers: BrowserPeers }).__benchPeers = api;
