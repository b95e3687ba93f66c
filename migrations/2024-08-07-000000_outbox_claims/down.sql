DROP TRIGGER outbox_unclaimed_notify ON outbox;
DROP FUNCTION outbox_notify();
ALTER TABLE outbox DROP COLUMN claimed_until;
