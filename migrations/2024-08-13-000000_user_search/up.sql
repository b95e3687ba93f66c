-- People search reads a narrow table of its own: one row per person with the folded search key
-- (`user_search_fold` of " first last nick", see migration `people_search`) and the registration
-- time it orders by. A search for a common name walks the newest registrations until it has a
-- thousand matches, and checks each of the caller's friends by id; on `users` each of those
-- steps fetched a wide row that activity updates keep rewriting. Here both are index-only scans
-- (each index carries the key), and the rows change only when a person registers or is renamed,
-- so the visibility map stays set and the scans do not visit the table. The trigram index moves
-- here too, off the table every activity update writes.
--
-- Kept by triggers on `users`, in the transaction of each write, so every write path — the API,
-- the seeds, a hand-written UPDATE — keeps it right. `nosebook seed scale` loads with triggers
-- off and fills it from `users` itself.

CREATE TABLE user_search (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    search_key text NOT NULL,
    CONSTRAINT user_search_pkey PRIMARY KEY (user_id) INCLUDE (created_at, search_key)
);

INSERT INTO user_search (user_id, created_at, search_key)
SELECT id, created_at, search_key FROM users;

-- Newest registration first, as search pages are ordered.
CREATE INDEX user_search_newest_idx ON user_search (created_at DESC, user_id DESC) INCLUDE (search_key);
-- Substrings of three characters or more, and word starts (see user_search_pattern).
CREATE INDEX user_search_key_trgm_idx ON user_search USING gin (search_key gin_trgm_ops);

DROP INDEX users_search_key_trgm_idx;
ALTER TABLE users DROP COLUMN search_key;

-- The key of a person, from the columns it is made of.
CREATE FUNCTION user_search_key(first_name text, last_name text, nick text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
SELECT ' ' || user_search_fold(first_name || ' ' || last_name || ' ' || nick)
$$;

CREATE FUNCTION user_search_registered() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO user_search (user_id, created_at, search_key)
    SELECT id, created_at, user_search_key(first_name, last_name, nick) FROM registered;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_registered_search AFTER INSERT ON users
    REFERENCING NEW TABLE AS registered FOR EACH STATEMENT EXECUTE FUNCTION user_search_registered();

-- Row by row: PostgreSQL allows no transition table on a trigger limited to some columns, and a
-- rename is one row. The column list keeps activity updates (the common write) from firing it.
CREATE FUNCTION user_search_renamed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE user_search
    SET created_at = NEW.created_at, search_key = user_search_key(NEW.first_name, NEW.last_name, NEW.nick)
    WHERE user_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_renamed_search AFTER UPDATE OF first_name, last_name, nick, created_at ON users
    FOR EACH ROW
    WHEN ((OLD.first_name, OLD.last_name, OLD.nick, OLD.created_at)
          IS DISTINCT FROM (NEW.first_name, NEW.last_name, NEW.nick, NEW.created_at))
    EXECUTE FUNCTION user_search_renamed();
