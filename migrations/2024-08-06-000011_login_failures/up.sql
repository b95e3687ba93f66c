-- Failed logins per account, in the database so that every node sees the same count: after
-- a few consecutive failures, attempts wait out an exponential back-off (README, "Limits").
-- One row per account with a failure since its last successful login; a success deletes it.
CREATE TABLE login_failures (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Consecutive attempts not (yet) proven right: an attempt is counted before its password
    -- is checked, so parallel guesses cannot all pass one check.
    failures integer NOT NULL,
    -- No attempt is checked before this moment.
    locked_until timestamptz
);
