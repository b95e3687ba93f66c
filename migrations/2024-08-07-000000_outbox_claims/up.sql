-- Events published from memory. A writer that publishes its own rows straight after COMMIT (the
-- chat writers' batches) claims them for a while: relays leave a claimed row alone, so it is not
-- published twice, and take it only once the claim has run out unpublished (the writer's node
-- died, or the broker refused it) — the outbox stays the safety net.
ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;

-- Relays on every node LISTEN on `outbox`: a row nobody claimed wakes them at COMMIT (NOTIFY is
-- delivered on commit, and repeats within one transaction are folded into one), so an idle
-- relay needs no frequent poll to see what other nodes wrote.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_unclaimed_notify AFTER INSERT ON outbox
    FOR EACH ROW WHEN (NEW.claimed_until IS NULL) EXECUTE FUNCTION outbox_notify();
