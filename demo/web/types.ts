// Record types the UI shows: the API's own shapes, generated from the spec.
import type { components } from '../../src/api/schema.js';

type S = components['schemas'];

export type Message = S['MailboxMessageSummary'];
export type Folder = S['MailboxFolder'];
export type Attachment = S['MailboxAttachment'];
export type Address = S['MailboxAddress'];
export type Draft = S['SendMailboxMessageBody'];
export type Identity = S['MailboxIdentity'];

/** What `GET /__demo/config` answers (see demo/server.ts). */
export interface DemoClientConfig {
  mode: 'simulator' | 'service';
  baseUrl: string;
  apiKey: string;
  mailboxId: string | null;
  simControlUrl: string | null;
}
