ALTER TABLE chat_members DROP COLUMN last_read_seq;
DROP INDEX messages_chat_seq_idx;
ALTER TABLE messages DROP COLUMN seq;
