// Folder order kept with folders/query-changes (issue 7): the leader stores the
// server's folder-list order with its query state, and folders$ follows it.
import { testStore } from '../helpers/storage.js';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxApi } from '../../src/api/index.js';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { MailboxDb } from '../../src/store/db.js';
import { FOLDER_ORDER_KEY } from '../../src/store/queries.js';
import { eventually } from '../engine/helpers.js';

let sim: Simulator | undefined;
let sync: MailboxSync | undefined;
let reader: MailboxDb | undefined;
afterEach(async () => {
  reader?.close();
  await sync?.stop();
  await sim?.close();
});

describe('folder order', () => {
  it('is kept from folders/query-changes through creates, renames, deletes and an expired query state', async () => {
    sim = await startSimulator({ port: 0, seed: 9, messages: 30, rateLimitPerMinute: 0 });
    const api = createMailboxApi({ apiKey: sim.apiKey, baseUrl: sim.url, rateLimit: false });
    const serverOrder = async () => {
      const ids: string[] = [];
      for await (const page of api.pages('listFolders', {})) ids.push(...page.data.map((f) => f.id));
      return { ids, state: (await api.queryFolderChanges({})).data.new_query_state };
    };
    for (const name of ['cherry', 'Banana', 'apple']) await sim.control.createFolder(name);
    const store = testStore();
    const requests: string[] = [];
    sync = createMailboxSync({
      apiKey: sim.apiKey, baseUrl: sim.url, ...store.options, dbName: 'fo', leader: 'always', events: false,
      content: { prefetch: false },
      fetch: (input, init) => {
        requests.push(String(input));
        return fetch(input, init);
      },
    });
    await sync.start();
    reader = new MailboxDb('fo', store.options);
    await reader.open();

    const follows = async (label: string) => {
      const expected = await serverOrder();
      await eventually(async () => {
        const row = (await reader!.syncState.get(FOLDER_ORDER_KEY))?.value as { state: string; ids: string[] } | undefined;
        return row?.state === expected.state && row.ids.join() === expected.ids.join();
      }, 10_000, `${label}: stored folder order equals the server's`);
      const shown = await firstValueFrom(sync!.folders$().pipe(filter((fs) => fs.map((f) => f.id).join() === expected.ids.join()), timeout(10_000)));
      expect(shown.map((f) => f.id), label).toEqual(expected.ids);
    };

    await follows('after start');
    const snap = await sim.snapshot();
    await sim.control.renameFolder(snap.folders.find((f) => f.name === 'cherry')!.id, 'Aardvark');
    await sim.control.deleteFolder(snap.folders.find((f) => f.name === 'Banana')!.id);
    await sync.syncNow();
    await follows('after rename and delete');
    expect(requests.some((u) => u.includes('/mailbox/folders/query-changes') && u.includes('since_query_state'))).toBe(true);

    await sim.control.expireChangeLog();
    await sim.control.createFolder('avocado');
    await sync.syncNow();
    await follows('after expiry');
  });
});
