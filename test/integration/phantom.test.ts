// Found by chaos seed 106 (60 steps): get-state-then-read lists records after the
// token is captured, and the list endpoints carry no state. A record created between
// the capture and the listing, then destroyed, used to be omitted from /changes
// (RFC 8620 §5.2's SHOULD), so the replica kept it for good.
import { testStore } from '../helpers/storage.js';
import { afterEach, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

let sim: Simulator | undefined;
let sync: MailboxSync | undefined;
afterEach(async () => {
  await sync?.stop();
  await sim?.close();
});

it('chaos seed 106: a folder created during a re-list and deleted before the next pull does not survive as a phantom', async () => {
  sim = await startSimulator({ port: 0, seed: 106, messages: 40, rateLimitPerMinute: 0 });
  const s = sim;
  let armed = false;
  let phantom: string | undefined;
  const racing: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    if (armed && url.pathname.endsWith('/mailbox/folders') && (init?.method ?? 'GET') === 'GET') {
      // The re-list captured the folder token already: create a folder now, so the
      // listing contains it although the captured token predates it.
      armed = false;
      phantom = (await s.control.createFolder('born during the re-list')).id;
    }
    return fetch(input, init);
  };
  sync = createMailboxSync({
    apiKey: s.apiKey, baseUrl: s.url, ...testStore().options, dbName: 'phantom', leader: 'always',
    events: false, fetch: racing, content: { prefetch: false },
  });
  await sync.start();
  await s.control.expireChangeLog();
  armed = true;
  await sync.syncNow(); // sync_required: every type is re-listed
  expect(phantom).toBeDefined();
  expect((await sync.snapshot()).folders.map((f) => f.id)).toContain(phantom);

  await s.control.deleteFolder(phantom!);
  await sync.syncNow();
  expect((await sync.snapshot()).folders.map((f) => f.id)).not.toContain(phantom);
  expect((await sync.snapshot()).folders).toEqual((await s.snapshot()).folders);
});

it('chaos seed 106, against a server that omits ids created and destroyed since the token: a re-list whose token moved lists again', async () => {
  sim = await startSimulator({ port: 0, seed: 107, messages: 40, rateLimitPerMinute: 0 });
  const s = sim;
  let armed = false;
  let phantom: string | undefined;
  let before: string | undefined; // the folder token captured before the phantom existed
  const omitting: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    if (armed && url.pathname.endsWith('/mailbox/folders') && (init?.method ?? 'GET') === 'GET') {
      armed = false;
      phantom = (await s.control.createFolder('born during the re-list')).id;
    }
    const res = await fetch(input, init);
    if (url.pathname.endsWith('/mailbox/session') && armed && before === undefined) {
      before = ((await res.clone().json()) as { data: { states: { folders: string } } }).data.states.folders;
    }
    if (url.pathname.endsWith('/mailbox/changes') && phantom && before && url.searchParams.get('folders_since_state') === before) {
      // RFC 8620 §5.2 SHOULD: created and destroyed since `before` → omitted entirely.
      const body = (await res.json()) as { data: { types: { folders?: { destroyed: string[] } } } };
      const folders = body.data.types.folders;
      if (folders) folders.destroyed = folders.destroyed.filter((id) => id !== phantom);
      return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
    }
    return res;
  };
  sync = createMailboxSync({
    apiKey: s.apiKey, baseUrl: s.url, ...testStore().options, dbName: 'phantom2', leader: 'always',
    events: false, fetch: omitting, content: { prefetch: false },
  });
  await sync.start();
  await s.control.expireChangeLog();
  armed = true;
  await sync.syncNow();
  expect(phantom).toBeDefined();
  expect(before).toBeDefined();
  await s.control.deleteFolder(phantom!);
  await sync.syncNow();
  expect((await sync.snapshot()).folders).toEqual((await s.snapshot()).folders);
});
