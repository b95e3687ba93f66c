-- One outbox row per event, not per recipient: a message to a group of 1,000 is one row and one
-- RabbitMQ message (routed to every node with one of its recipients by the `CC` header), instead
-- of 1,000 of each.
ALTER TABLE outbox ADD COLUMN recipients uuid[];
UPDATE outbox SET recipients = ARRAY[recipient_id];
ALTER TABLE outbox ALTER COLUMN recipients SET NOT NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_has_recipients CHECK (cardinality(recipients) > 0);
ALTER TABLE outbox DROP COLUMN recipient_id;
