ALTER TABLE outbox DROP COLUMN trace_context;
ALTER TABLE users DROP COLUMN avatar_key;
