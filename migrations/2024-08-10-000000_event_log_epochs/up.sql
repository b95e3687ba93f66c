-- The incarnation of each event log (a RabbitMQ stream, by name). Offsets start over when a
-- stream is deleted and created again, so every cursor names the epoch of the log it points
-- into; nodes agree on the current one here, and a node that finds the stream new draws
-- another (compare-and-set on the one it knew).
CREATE TABLE event_log_epochs (
    log text PRIMARY KEY,
    epoch text NOT NULL
);
