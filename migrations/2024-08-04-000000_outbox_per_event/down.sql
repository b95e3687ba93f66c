-- Back to one row per recipient.
ALTER TABLE outbox ADD COLUMN recipient_id uuid;
INSERT INTO outbox (recipient_id, frame, created_at, published_at, trace_context)
SELECT r, frame, created_at, published_at, trace_context FROM outbox, unnest(recipients) AS r
WHERE cardinality(recipients) > 1;
DELETE FROM outbox WHERE cardinality(recipients) > 1;
UPDATE outbox SET recipient_id = recipients[1] WHERE recipient_id IS NULL;
ALTER TABLE outbox ALTER COLUMN recipient_id SET NOT NULL;
ALTER TABLE outbox DROP COLUMN recipients;
