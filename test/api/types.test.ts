// Type tests: request and response types of the client come from the generated spec
// types (src/api/schema.ts). These assertions are checked by `tsc --noEmit`
// (tsconfig includes test/); the runtime part only proves the methods exist.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createMailboxApi, OPERATIONS } from '../../src/api/index.js';
import type {
  ApiResponse,
  AttachmentResponse,
  CallOptions,
  EventsOptions,
  Changes,
  Folder,
  MailboxApi,
  MailboxStreamEvent,
  Message,
  MessageDetail,
  MethodInput,
  MethodMeta,
  MethodName,
  RealtimeEvent,
  Session,
  TypedChanges,
} from '../../src/api/index.js';
import type { components, operations } from '../../src/api/schema.js';
import { EventSource as PackageEventSource } from 'eventsource';
import type { EventSourceConstructor, MailboxApiOptions } from '../../src/api/index.js';

type S = components['schemas'];

describe('client types come from the spec', () => {
  it('record aliases are the spec schemas', () => {
    expectTypeOf<Message>().toEqualTypeOf<S['MailboxMessageSummary']>();
    expectTypeOf<MessageDetail>().toEqualTypeOf<S['MailboxMessage']>();
    expectTypeOf<Folder>().toEqualTypeOf<S['MailboxFolder']>();
    expectTypeOf<Session>().toEqualTypeOf<S['MailboxSession']>();
    expectTypeOf<RealtimeEvent>().toEqualTypeOf<S['MailboxRealtimeEvent']>();
  });

  it('method names are exactly the operationIds minus `mailbox` (SSE is events())', () => {
    type Expected = Exclude<keyof operations, 'mailboxStreamEvents'> extends `mailbox${infer R}` ? Uncapitalize<R> : never;
    expectTypeOf<MethodName>().toEqualTypeOf<Expected>();
    expectTypeOf<keyof typeof OPERATIONS>().toEqualTypeOf<MethodName>();
    expectTypeOf<MailboxApi>().toHaveProperty('listMessages');
    expectTypeOf<MailboxApi>().toHaveProperty('getChanges');
    expectTypeOf<MailboxApi>().toHaveProperty('sendMessage');
  });

  it('inputs merge path + query parameters and the JSON body from the spec', () => {
    type ListQuery = NonNullable<operations['mailboxListMessages']['parameters']['query']>;
    expectTypeOf<MethodInput<'listMessages'>>().toEqualTypeOf<{ [K in keyof ListQuery]: ListQuery[K] }>();
    expectTypeOf<MethodInput<'getMessage'>['message_id']>().toEqualTypeOf<string>();
    expectTypeOf<MethodInput<'getMessage'>>().toHaveProperty('mailbox_id');
    expectTypeOf<MethodInput<'batchUpdateMessages'>['body']>().toEqualTypeOf<S['BatchUpdateMailboxMessagesBody']>();
    expectTypeOf<MethodInput<'batchGetMessages'>['body']>().toEqualTypeOf<S['MailboxBatchGetBody']>();
    expectTypeOf<MethodInput<'sendMessage'>['body']>().toEqualTypeOf<S['SendMailboxMessageBody']>();
    expectTypeOf<MethodInput<'uploadAttachment'>['filename']>().toEqualTypeOf<string>();
    expectTypeOf<MethodInput<'uploadAttachment'>['body']>().toEqualTypeOf<Blob | Uint8Array | ArrayBuffer>();
    expectTypeOf<MethodInput<'getMessageAttachment'>['range']>().toEqualTypeOf<{ start: number; end?: number } | undefined>();
    expectTypeOf<MethodInput<'listMessages'>['sort_by']>().toEqualTypeOf<
      'received_at' | 'sent_at' | 'subject' | 'from' | 'to' | 'size_bytes' | undefined
    >();
  });

  it('responses are ApiResponse of the spec data', () => {
    const api = {} as MailboxApi;
    expectTypeOf(api.getSession).returns.resolves.toHaveProperty('data').toEqualTypeOf<Session>();
    expectTypeOf(api.listMessages).returns.resolves.toHaveProperty('data').toEqualTypeOf<Message[]>();
    expectTypeOf(api.getMessage).returns.resolves.toHaveProperty('data').toEqualTypeOf<MessageDetail>();
    expectTypeOf(api.getChanges).returns.resolves.toHaveProperty('data').toEqualTypeOf<Changes | TypedChanges>();
    expectTypeOf(api.batchGetMessages).returns.resolves.toHaveProperty('data').toEqualTypeOf<S['MailboxBatchGetResult']>();
    expectTypeOf(api.getMessageAttachment).returns.resolves.toEqualTypeOf<AttachmentResponse>();
    expectTypeOf(api.getThreadContent).returns.resolves.toHaveProperty('meta').toHaveProperty('states');
    expectTypeOf(api.listFolders).returns.resolves.toMatchTypeOf<ApiResponse<Folder[]>>();
    expectTypeOf(api.events).returns.toHaveProperty('subscribe');
    expectTypeOf<Parameters<MailboxApi['events']>[0]>().toEqualTypeOf<EventsOptions | undefined>();
    expectTypeOf<MailboxStreamEvent['type']>().toEqualTypeOf<string>();
  });

  it('inputs are optional exactly when nothing is required, and CallOptions is the 2nd argument', () => {
    const api = {} as MailboxApi;
    expectTypeOf(api.getSession).parameter(0).toEqualTypeOf<MethodInput<'getSession'> | undefined>();
    expectTypeOf(api.getMessage).parameter(0).toEqualTypeOf<MethodInput<'getMessage'>>();
    expectTypeOf(api.listMessages).parameter(1).toEqualTypeOf<CallOptions | undefined>();
    // @ts-expect-error message_id is required
    void (() => api.getMessage({}));
    // @ts-expect-error unknown field
    void (() => api.listMessages({ folderId: 'x' }));
    // @ts-expect-error body has the spec's shape
    void (() => api.batchUpdateMessages({ body: { ids: 1 } }));
  });

  it('pages() only accepts cursor-paginated methods and yields their response type', () => {
    const api = {} as MailboxApi;
    expectTypeOf(api.pages<'listMessages'>).returns.toEqualTypeOf<AsyncIterable<ApiResponse<Message[], MethodMeta<'listMessages'>>>>();
    // @ts-expect-error getSession is not paginated
    void (() => api.pages('getSession'));
    // @ts-expect-error thread_id is required for this list
    void (() => api.pages('listThreadMessages'));
    void (() => api.pages('listThreadMessages', { thread_id: 't', limit: 10 }, { priority: 'background' }));
  });

  it('the eventsource package class is injectable as options.EventSource', () => {
    // Compile-time assignability checks (tsc fails if the package's class does not fit).
    const ctor: EventSourceConstructor = PackageEventSource;
    const options: MailboxApiOptions = { apiKey: 'k', EventSource: PackageEventSource };
    expect(options.EventSource).toBe(ctor);
  });

  it('the runtime client has a function for every method', () => {
    const api = createMailboxApi({ apiKey: 'k', rateLimit: false });
    for (const name of Object.keys(OPERATIONS)) expect(typeof (api as unknown as Record<string, unknown>)[name]).toBe('function');
  });
});
