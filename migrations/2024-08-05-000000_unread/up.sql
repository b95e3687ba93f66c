-- Unread messages. The order messages were written in, independent of the clock (which is
-- frozen in testing mode and may tie): a member has read everything up to `last_read_seq`.
ALTER TABLE messages ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX messages_chat_seq_idx ON messages (chat_id, seq);
ALTER TABLE chat_members ADD COLUMN last_read_seq bigint NOT NULL DEFAULT 0;
-- What existed before counts as read.
UPDATE chat_members cm SET last_read_seq = m.seq
FROM (SELECT chat_id, max(seq) AS seq FROM messages GROUP BY chat_id) m
WHERE m.chat_id = cm.chat_id;
