-- Avatars on object storage: the key prefix of the stored versions (`<prefix>-400.jpg`,
-- `<prefix>-100.jpg`), so that replacing an avatar deletes exactly the old objects.
ALTER TABLE users ADD COLUMN avatar_key text;

-- The W3C trace context of the request that wrote the event, so that the relay's publish and the
-- notifier's delivery join that request's trace.
ALTER TABLE outbox ADD COLUMN trace_context text;
