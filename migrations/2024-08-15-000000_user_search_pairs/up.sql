-- People search for texts of two words or more ("anna petrova"). The trigram index answers
-- them by intersecting the posting lists of every trigram of the text, and the trigrams of
-- common names ("nna", "ova") each list a large share of everyone: milliseconds of index work
-- for a few thousand matches. A text with a space in it says more than its trigrams: in a
-- matching key, the part before its first space ends a word of the key, and the part after it
-- starts the next word. So:
--
--   * `user_search_pairs` holds every two consecutive words of each key ("anna petrova",
--     "petrova anna.petrova"), each row carrying the person's registration time and whole key;
--   * `user_search_words` holds every word that starts a pair, indexed by its reversed spelling,
--     so the words ending in the text's first word (anna, joanna, zhanna) are a range of it.
--
-- A two-word text is then one range of the pairs per such word (`user_search_pair_route`), and
-- the key's `LIKE` rechecks each row from the index alone. Every key containing the text is
-- found: the text's first word lies inside one word of the key, ending at a space, and its
-- second word starts the key's next word. The words are never removed (a renamed person's old
-- word stays, and costs one empty range), so the list of words stays a superset.
--
-- Kept by triggers on `user_search`, in the transaction of each change, like `user_search`
-- itself; `nosebook seed scale` loads with triggers off and fills both from `user_search`.

CREATE TABLE user_search_words (
    word text COLLATE "C" PRIMARY KEY
);
CREATE INDEX user_search_words_reversed_idx ON user_search_words (reverse(word));

CREATE TABLE user_search_pairs (
    user_id uuid NOT NULL REFERENCES user_search (user_id) ON DELETE CASCADE,
    pair text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    search_key text NOT NULL
);
CREATE INDEX user_search_pairs_pair_idx ON user_search_pairs (pair) INCLUDE (user_id, created_at, search_key);
CREATE INDEX user_search_pairs_user_idx ON user_search_pairs (user_id);

-- The consecutive word pairs of a key (" first last nick": its first word is the empty one
-- before the leading space, which starts no pair).
CREATE FUNCTION user_search_key_pairs(key text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
SELECT w[i] || ' ' || w[i + 1]
FROM (SELECT string_to_array(key, ' ') AS w) words, generate_series(2, cardinality(w) - 1) AS i
$$;

-- The words of a text that the pairs answer for: its first word and the start of its second,
-- or NULL when the trigram index should answer it instead (no space, or parts too short to
-- narrow anything: words ending in "a" are half of them).
CREATE FUNCTION user_search_pair_route(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
SELECT CASE WHEN length(first) >= 3 AND length(second) >= 2 THEN ARRAY[first, second] END
FROM (
    SELECT split_part(f, ' ', 1) AS first, split_part(f, ' ', 2) AS second
    FROM (SELECT btrim(user_search_fold(t), E' \t\r\n') AS f) folded
) parts
$$;

-- `LIKE` pattern for the strings that start with `t`.
CREATE FUNCTION user_search_prefix_pattern(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
SELECT replace(replace(replace(t, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

CREATE FUNCTION user_search_indexed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO user_search_pairs (user_id, pair, created_at, search_key)
    SELECT s.user_id, p.pair, s.created_at, s.search_key
    FROM indexed s, user_search_key_pairs(s.search_key) AS p (pair);
    INSERT INTO user_search_words (word)
    SELECT DISTINCT split_part(p.pair, ' ', 1)
    FROM indexed s, user_search_key_pairs(s.search_key) AS p (pair)
    ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_search_indexed AFTER INSERT ON user_search
    REFERENCING NEW TABLE AS indexed FOR EACH STATEMENT EXECUTE FUNCTION user_search_indexed();

CREATE FUNCTION user_search_reindexed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM user_search_pairs WHERE user_id = NEW.user_id;
    INSERT INTO user_search_pairs (user_id, pair, created_at, search_key)
    SELECT NEW.user_id, p.pair, NEW.created_at, NEW.search_key FROM user_search_key_pairs(NEW.search_key) AS p (pair);
    INSERT INTO user_search_words (word)
    SELECT DISTINCT split_part(p.pair, ' ', 1) FROM user_search_key_pairs(NEW.search_key) AS p (pair)
    ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_search_reindexed AFTER UPDATE ON user_search
    FOR EACH ROW
    WHEN ((OLD.search_key, OLD.created_at) IS DISTINCT FROM (NEW.search_key, NEW.created_at))
    EXECUTE FUNCTION user_search_reindexed();

INSERT INTO user_search_pairs (user_id, pair, created_at, search_key)
SELECT s.user_id, p.pair, s.created_at, s.search_key FROM user_search s, user_search_key_pairs(s.search_key) AS p (pair);
INSERT INTO user_search_words (word)
SELECT DISTINCT split_part(pair, ' ', 1) FROM user_search_pairs;
ANALYZE user_search_pairs, user_search_words;
