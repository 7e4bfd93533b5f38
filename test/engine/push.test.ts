import { describe, expect, it } from 'vitest';
import type { RealtimeEvent } from '../../src/api/types.js';
import { summaryFromEvent } from '../../src/sync/push.js';

const summary = {
  id: 'msg_1', thread_id: 'thr_1', folder_ids: ['inbox'], subject: 'Hi', preview: 'Hello', from: { email: 'a@example.com', name: null }, to: [], cc: [], bcc: [],
  received_at: '2026-01-01T00:00:00.000Z', sent_at: null, size_bytes: 12, has_attachments: false, keywords: [], flags: { seen: false, flagged: false, draft: false, answered: false },
};

function event(message: unknown): RealtimeEvent {
  return {
    event_type: 'message.received', team_public_id: 'team', mailbox_id: 'mbx', message_id: 'msg_1', message_id_kind: 'provider', sender: 'a@example.com',
    recipients: [], is_spam: false, occurred_at: '2026-01-01T00:00:00.000Z', message: message as RealtimeEvent['message'],
  };
}

describe('summaryFromEvent', () => {
  it('keeps exactly the summary fields of a realtime snapshot (drops body and rfc5322_message_id)', () => {
    const attachments = [{ id: 'att', filename: 'a.txt', content_type: 'text/plain', size_bytes: 1, disposition: 'attachment', content_id: null }];
    const got = summaryFromEvent(event({ ...summary, attachments, rfc5322_message_id: '<x@y>', body: { text: 'Hello', html: null, is_truncated: false, max_bytes: 16384 }, extra: 1 }));
    expect(got).toEqual({ ...summary, attachments });
  });

  it('returns undefined when the snapshot is missing or incomplete', () => {
    expect(summaryFromEvent(event(null))).toBeUndefined();
    const { flags: _flags, ...noFlags } = summary;
    expect(summaryFromEvent(event(noFlags))).toBeUndefined();
    expect(summaryFromEvent(event({ ...summary, folder_ids: 'inbox' }))).toBeUndefined();
    // Mistyped fields the store indexes or renders are refused like a listed record's.
    expect(summaryFromEvent(event({ ...summary, received_at: 1767225600000 }))).toBeUndefined();
    expect(summaryFromEvent(event({ ...summary, subject: 42 }))).toBeUndefined();
    expect(summaryFromEvent(event({ ...summary, flags: { seen: 'no', flagged: false, draft: false, answered: false } }))).toBeUndefined();
  });
});
