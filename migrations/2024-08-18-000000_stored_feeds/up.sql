-- News kept per reader (docs/API.md §5.8, ARCHITECTURE.md "News"): the newest posts of a reader's
-- own and friends' posts, copied when a post is written, for readers who read their feed lately.
-- Everyone else's feed is built when read (from each author's newest posts), which stays the
-- fallback for any page the stored rows cannot answer whole.

-- One row per reader whose feed is kept. `ready` once built; until then the reader's pages are
-- built when read, and fan-outs already add to it. The stored rows are complete above the
-- horizon (`horizon_at`, `horizon_id`, in the feed's newest-first order; none: complete all the
-- way down): older ones were never copied or were trimmed.
CREATE TABLE feeds (
    viewer_id  uuid        PRIMARY KEY,
    ready      boolean     NOT NULL DEFAULT false,
    horizon_at timestamptz,
    horizon_id uuid,
    read_at    timestamptz NOT NULL,
    CHECK ((horizon_at IS NULL) = (horizon_id IS NULL))
);
CREATE INDEX feeds_read_idx ON feeds (read_at);
CREATE INDEX feeds_building_idx ON feeds (read_at) WHERE NOT ready;

-- A reader's posts, newest first. A removed post stays until trimmed (pages skip it); an ended
-- friendship takes its author's rows out in the transaction that ends it. No foreign keys: a
-- row whose post is gone is never shown (pages join the post) and the janitor trims it.
CREATE TABLE feed_entries (
    viewer_id  uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    post_id    uuid        NOT NULL,
    author_id  uuid        NOT NULL,
    PRIMARY KEY (viewer_id, created_at, post_id)
);

-- Posts written and not yet copied to their readers' feeds, in the transaction that writes them,
-- so that none is lost by a crash between the post and its copies.
CREATE TABLE feed_jobs (
    post_id   uuid        PRIMARY KEY,
    author_id uuid        NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now()
);

-- The author's own kept feed gets the post at once (they see what they wrote); their friends'
-- feeds get it from the job, after the commit.
CREATE FUNCTION posts_feed_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_jobs (post_id, author_id)
    SELECT id, author_id FROM changed WHERE removed_at IS NULL ORDER BY id;
    INSERT INTO feed_entries (viewer_id, created_at, post_id, author_id)
    SELECT c.author_id, c.created_at, c.id, c.author_id FROM changed c JOIN feeds f ON f.viewer_id = c.author_id
    WHERE c.removed_at IS NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER posts_feed_job AFTER INSERT ON posts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_feed_job();

-- Who copies, who builds and whose friendship changes take turns per reader: a copy or a build
-- holds its author's or reader's stripe shared, a friendship that starts or ends holds both
-- people's stripes exclusively, so a copy never lands after the end of the friendship it was
-- made for, nor a build from a friend list that has since changed. Stripes rather than people,
-- so that a bulk change takes a bounded number of locks.
CREATE FUNCTION feed_stripe(person uuid) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN hashtext(person::text) & 255;

-- A friendship's start copies each one's newest posts into the other's kept feed (above its
-- horizon, at most as many as a feed keeps); its end takes them out. Pairs as arrays: `a[i]` and
-- `b[i]` became friends (`started[i]`) or stopped being friends.
CREATE FUNCTION feed_friendships_changed(a uuid[], b uuid[], started boolean[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(a) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(9187, s)
    FROM (SELECT DISTINCT feed_stripe(u) AS s FROM unnest(a || b) u) d ORDER BY s;
    DELETE FROM feed_entries e
    USING (SELECT x, y FROM unnest(a, b, started) p(x, y, st) WHERE NOT st
           UNION ALL SELECT y, x FROM unnest(a, b, started) p(x, y, st) WHERE NOT st) p(viewer, author)
    WHERE e.viewer_id = p.viewer AND e.author_id = p.author;
    INSERT INTO feed_entries (viewer_id, created_at, post_id, author_id)
    SELECT p.viewer, c.created_at, c.id, p.author
    FROM (SELECT x, y FROM unnest(a, b, started) p(x, y, st) WHERE st
          UNION ALL SELECT y, x FROM unnest(a, b, started) p(x, y, st) WHERE st) p(viewer, author)
    JOIN feeds f ON f.viewer_id = p.viewer
    CROSS JOIN LATERAL (
        SELECT id, created_at FROM posts
        WHERE author_id = p.author AND removed_at IS NULL
          AND (f.horizon_at IS NULL OR (created_at, id) > (f.horizon_at, f.horizon_id))
        ORDER BY created_at DESC, id DESC LIMIT 400) c
    ON CONFLICT DO NOTHING;
END;
$$;

-- An accepted row inserted starts a friendship; one deleted ends it.
CREATE FUNCTION friendships_feed_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM feed_friendships_changed(
        coalesce(array_agg(requester_id), '{}'), coalesce(array_agg(responder_id), '{}'),
        coalesce(array_agg(TG_OP = 'INSERT'), '{}'))
    FROM changed WHERE accepted;
    RETURN NULL;
END;
$$;

-- An update may accept a request, or end a friendship by turning it back into a request (the
-- pair's row then names the two the other way round): pairs, not rows, are compared.
CREATE FUNCTION friendships_feed_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM feed_friendships_changed(
        coalesce(array_agg(x), '{}'), coalesce(array_agg(y), '{}'), coalesce(array_agg(st), '{}'))
    FROM (
        SELECT x, y, true FROM (
            SELECT least(requester_id, responder_id), greatest(requester_id, responder_id) FROM changed WHERE accepted
            EXCEPT SELECT least(requester_id, responder_id), greatest(requester_id, responder_id) FROM gone WHERE accepted) s(x, y)
        UNION ALL
        SELECT x, y, false FROM (
            SELECT least(requester_id, responder_id), greatest(requester_id, responder_id) FROM gone WHERE accepted
            EXCEPT SELECT least(requester_id, responder_id), greatest(requester_id, responder_id) FROM changed WHERE accepted) s(x, y)
    ) d(x, y, st);
    RETURN NULL;
END;
$$;

CREATE TRIGGER friendship_requests_inserted_feed AFTER INSERT ON friendship_requests
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION friendships_feed_rows();
CREATE TRIGGER friendship_requests_updated_feed AFTER UPDATE ON friendship_requests
    REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION friendships_feed_updated();
CREATE TRIGGER friendship_requests_deleted_feed AFTER DELETE ON friendship_requests
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION friendships_feed_rows();
