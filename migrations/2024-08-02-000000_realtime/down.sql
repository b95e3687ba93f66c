DROP INDEX users_presence_sweep_idx;
ALTER TABLE users DROP COLUMN presence_announced;
DROP INDEX chats_last_message_idx;
ALTER TABLE chats DROP COLUMN last_message_id, DROP COLUMN last_message_at;
DROP TABLE outbox;
