-- The counts pages show — a wall's and an author's live posts, a person's friends and requests, a post's likes and live comments,
-- a comment's likes, a chat's live messages — kept exact in the transaction of every write that
-- changes them, so that a page reads a count as one row instead of counting every row it counts
-- (a chat's 100,000 messages, a popular post's likes) on every request.
--
-- Kept by triggers, for the reasons `wall_versions` is: no write path can forget them, and they
-- run once per statement over its transition tables, so a bulk insert adjusts each count once.
-- A bulk load that turns triggers off (`session_replication_role = replica`) calls `recount()`
-- after it. Rows are adjusted in key order, so writers of the same counts cannot deadlock on them;
-- the triggers' names sort after the wall version bumps of the same tables (`..._bump`), which
-- every writer to a wall takes first. No foreign keys, as for `wall_versions`: a count left
-- behind by a deleted row is never read, and an adjustment then costs no key check.
CREATE TABLE user_counts (
    user_id        uuid   PRIMARY KEY,
    wall_posts     bigint NOT NULL DEFAULT 0,
    authored_posts bigint NOT NULL DEFAULT 0,
    -- Friendship rows by the user's side of them (`_in`: the user is the responder) and state.
    accepted_in    bigint NOT NULL DEFAULT 0,
    accepted_out   bigint NOT NULL DEFAULT 0,
    pending_in     bigint NOT NULL DEFAULT 0,
    pending_out    bigint NOT NULL DEFAULT 0,
    -- Requests to the user not yet seen (pending and not viewed).
    unviewed_in    bigint NOT NULL DEFAULT 0
);
CREATE TABLE post_counts (
    post_id  uuid   PRIMARY KEY,
    likes    bigint NOT NULL DEFAULT 0,
    comments bigint NOT NULL DEFAULT 0
);
CREATE TABLE comment_counts (
    comment_id uuid   PRIMARY KEY,
    likes      bigint NOT NULL DEFAULT 0
);
CREATE TABLE chat_counts (
    chat_id  uuid   PRIMARY KEY,
    messages bigint NOT NULL DEFAULT 0
);

-- Every function below sums the statement's change per key: for an insert (+1) or a delete (-1)
-- over `changed`, the rows counted; for an update, the rows counted now (`changed`) less those
-- counted before (`gone`), and only the keys whose sum moved (an edit moves nothing).


CREATE FUNCTION posts_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO user_counts (user_id, wall_posts, authored_posts)
        SELECT k, sum(d_wall_posts), sum(d_authored_posts) FROM (
            SELECT owner_id, 1, 0 FROM changed WHERE removed_at IS NULL
            UNION ALL SELECT author_id, 0, 1 FROM changed WHERE removed_at IS NULL
            UNION ALL SELECT owner_id, -1, 0 FROM gone WHERE removed_at IS NULL
            UNION ALL SELECT author_id, 0, -1 FROM gone WHERE removed_at IS NULL) d(k, d_wall_posts, d_authored_posts)
        GROUP BY k
        HAVING sum(d_wall_posts) <> 0 OR sum(d_authored_posts) <> 0 ORDER BY k
        ON CONFLICT (user_id) DO UPDATE SET wall_posts = user_counts.wall_posts + EXCLUDED.wall_posts, authored_posts = user_counts.authored_posts + EXCLUDED.authored_posts;
    ELSE
        INSERT INTO user_counts (user_id, wall_posts, authored_posts)
        SELECT k, sum(d_wall_posts), sum(d_authored_posts) FROM (
            SELECT owner_id, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END, 0 FROM changed WHERE removed_at IS NULL
            UNION ALL SELECT author_id, 0, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END FROM changed WHERE removed_at IS NULL) d(k, d_wall_posts, d_authored_posts)
        GROUP BY k ORDER BY k
        ON CONFLICT (user_id) DO UPDATE SET wall_posts = user_counts.wall_posts + EXCLUDED.wall_posts, authored_posts = user_counts.authored_posts + EXCLUDED.authored_posts;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION comments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO post_counts (post_id, comments)
        SELECT k, sum(d_comments) FROM (
            SELECT post_id, 1 FROM changed WHERE removed_at IS NULL AND post_id IS NOT NULL
            UNION ALL SELECT post_id, -1 FROM gone WHERE removed_at IS NULL AND post_id IS NOT NULL) d(k, d_comments)
        GROUP BY k
        HAVING sum(d_comments) <> 0 ORDER BY k
        ON CONFLICT (post_id) DO UPDATE SET comments = post_counts.comments + EXCLUDED.comments;
    ELSE
        INSERT INTO post_counts (post_id, comments)
        SELECT k, sum(d_comments) FROM (
            SELECT post_id, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END FROM changed WHERE removed_at IS NULL AND post_id IS NOT NULL) d(k, d_comments)
        GROUP BY k ORDER BY k
        ON CONFLICT (post_id) DO UPDATE SET comments = post_counts.comments + EXCLUDED.comments;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION post_likes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Likes are inserted and deleted, never updated.
        INSERT INTO post_counts (post_id, likes)
        SELECT k, sum(d_likes) FROM (
            SELECT post_id, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END FROM changed WHERE TRUE) d(k, d_likes)
        GROUP BY k ORDER BY k
        ON CONFLICT (post_id) DO UPDATE SET likes = post_counts.likes + EXCLUDED.likes;
    RETURN NULL;
END;
$$;

CREATE FUNCTION comment_likes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Likes are inserted and deleted, never updated.
        INSERT INTO comment_counts (comment_id, likes)
        SELECT k, sum(d_likes) FROM (
            SELECT comment_id, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END FROM changed WHERE TRUE) d(k, d_likes)
        GROUP BY k ORDER BY k
        ON CONFLICT (comment_id) DO UPDATE SET likes = comment_counts.likes + EXCLUDED.likes;
    RETURN NULL;
END;
$$;

CREATE FUNCTION messages_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO chat_counts (chat_id, messages)
        SELECT k, sum(d_messages) FROM (
            SELECT chat_id, 1 FROM changed WHERE removed_at IS NULL
            UNION ALL SELECT chat_id, -1 FROM gone WHERE removed_at IS NULL) d(k, d_messages)
        GROUP BY k
        HAVING sum(d_messages) <> 0 ORDER BY k
        ON CONFLICT (chat_id) DO UPDATE SET messages = chat_counts.messages + EXCLUDED.messages;
    ELSE
        INSERT INTO chat_counts (chat_id, messages)
        SELECT k, sum(d_messages) FROM (
            SELECT chat_id, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END FROM changed WHERE removed_at IS NULL) d(k, d_messages)
        GROUP BY k ORDER BY k
        ON CONFLICT (chat_id) DO UPDATE SET messages = chat_counts.messages + EXCLUDED.messages;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION friendships_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO user_counts (user_id, accepted_in, accepted_out, pending_in, pending_out, unviewed_in)
        SELECT k, sum(d_accepted_in), sum(d_accepted_out), sum(d_pending_in), sum(d_pending_out), sum(d_unviewed_in) FROM (
            SELECT responder_id, 1, 0, 0, 0, 0 FROM changed WHERE accepted
            UNION ALL SELECT requester_id, 0, 1, 0, 0, 0 FROM changed WHERE accepted
            UNION ALL SELECT responder_id, 0, 0, 1, 0, 0 FROM changed WHERE NOT accepted
            UNION ALL SELECT requester_id, 0, 0, 0, 1, 0 FROM changed WHERE NOT accepted
            UNION ALL SELECT responder_id, 0, 0, 0, 0, 1 FROM changed WHERE NOT accepted AND NOT viewed
            UNION ALL SELECT responder_id, -1, 0, 0, 0, 0 FROM gone WHERE accepted
            UNION ALL SELECT requester_id, 0, -1, 0, 0, 0 FROM gone WHERE accepted
            UNION ALL SELECT responder_id, 0, 0, -1, 0, 0 FROM gone WHERE NOT accepted
            UNION ALL SELECT requester_id, 0, 0, 0, -1, 0 FROM gone WHERE NOT accepted
            UNION ALL SELECT responder_id, 0, 0, 0, 0, -1 FROM gone WHERE NOT accepted AND NOT viewed) d(k, d_accepted_in, d_accepted_out, d_pending_in, d_pending_out, d_unviewed_in)
        GROUP BY k
        HAVING sum(d_accepted_in) <> 0 OR sum(d_accepted_out) <> 0 OR sum(d_pending_in) <> 0 OR sum(d_pending_out) <> 0 OR sum(d_unviewed_in) <> 0 ORDER BY k
        ON CONFLICT (user_id) DO UPDATE SET accepted_in = user_counts.accepted_in + EXCLUDED.accepted_in, accepted_out = user_counts.accepted_out + EXCLUDED.accepted_out, pending_in = user_counts.pending_in + EXCLUDED.pending_in, pending_out = user_counts.pending_out + EXCLUDED.pending_out, unviewed_in = user_counts.unviewed_in + EXCLUDED.unviewed_in;
    ELSE
        INSERT INTO user_counts (user_id, accepted_in, accepted_out, pending_in, pending_out, unviewed_in)
        SELECT k, sum(d_accepted_in), sum(d_accepted_out), sum(d_pending_in), sum(d_pending_out), sum(d_unviewed_in) FROM (
            SELECT responder_id, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END, 0, 0, 0, 0 FROM changed WHERE accepted
            UNION ALL SELECT requester_id, 0, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END, 0, 0, 0 FROM changed WHERE accepted
            UNION ALL SELECT responder_id, 0, 0, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END, 0, 0 FROM changed WHERE NOT accepted
            UNION ALL SELECT requester_id, 0, 0, 0, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END, 0 FROM changed WHERE NOT accepted
            UNION ALL SELECT responder_id, 0, 0, 0, 0, CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END FROM changed WHERE NOT accepted AND NOT viewed) d(k, d_accepted_in, d_accepted_out, d_pending_in, d_pending_out, d_unviewed_in)
        GROUP BY k ORDER BY k
        ON CONFLICT (user_id) DO UPDATE SET accepted_in = user_counts.accepted_in + EXCLUDED.accepted_in, accepted_out = user_counts.accepted_out + EXCLUDED.accepted_out, pending_in = user_counts.pending_in + EXCLUDED.pending_in, pending_out = user_counts.pending_out + EXCLUDED.pending_out, unviewed_in = user_counts.unviewed_in + EXCLUDED.unviewed_in;
    END IF;
    RETURN NULL;
END;
$$;

-- As for the version bumps, a transition table is allowed only on a single-event trigger.

CREATE TRIGGER posts_inserted_count AFTER INSERT ON posts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_count();

CREATE TRIGGER posts_updated_count AFTER UPDATE ON posts
    REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_count();

CREATE TRIGGER posts_deleted_count AFTER DELETE ON posts
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_count();

CREATE TRIGGER comments_inserted_count AFTER INSERT ON comments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comments_count();

CREATE TRIGGER comments_updated_count AFTER UPDATE ON comments
    REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comments_count();

CREATE TRIGGER comments_deleted_count AFTER DELETE ON comments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comments_count();

CREATE TRIGGER post_likes_inserted_count AFTER INSERT ON post_likes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION post_likes_count();

CREATE TRIGGER post_likes_deleted_count AFTER DELETE ON post_likes
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION post_likes_count();

CREATE TRIGGER comment_likes_inserted_count AFTER INSERT ON comment_likes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comment_likes_count();

CREATE TRIGGER comment_likes_deleted_count AFTER DELETE ON comment_likes
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comment_likes_count();

CREATE TRIGGER messages_inserted_count AFTER INSERT ON messages
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION messages_count();

CREATE TRIGGER messages_updated_count AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION messages_count();

CREATE TRIGGER messages_deleted_count AFTER DELETE ON messages
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION messages_count();


CREATE TRIGGER friendship_requests_inserted_count AFTER INSERT ON friendship_requests
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION friendships_count();

CREATE TRIGGER friendship_requests_updated_count AFTER UPDATE ON friendship_requests
    REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION friendships_count();

CREATE TRIGGER friendship_requests_deleted_count AFTER DELETE ON friendship_requests
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION friendships_count();

-- Requests waiting, listed by request time from either side without walking the accepted rows
-- (a popular person's thousands of friends) in between: few rows, small indexes.
CREATE INDEX friendship_requests_pending_in_idx ON friendship_requests
    (responder_id, created_at DESC, requester_id DESC) WHERE NOT accepted;
CREATE INDEX friendship_requests_pending_out_idx ON friendship_requests
    (requester_id, created_at DESC, responder_id DESC) WHERE NOT accepted;

-- Every count computed anew from the rows it counts: after a bulk load without triggers, and to
-- check the triggers (the tests compare the two). Takes the count tables' locks for its length.
CREATE PROCEDURE recount() LANGUAGE sql AS $$
    TRUNCATE user_counts, post_counts, comment_counts, chat_counts;
    INSERT INTO user_counts
        (user_id, wall_posts, authored_posts, accepted_in, accepted_out, pending_in, pending_out, unviewed_in)
    SELECT k, sum(w), sum(a), sum(ai), sum(ao), sum(pi), sum(po), sum(ui) FROM (
        SELECT owner_id, 1, 0, 0, 0, 0, 0, 0 FROM posts WHERE removed_at IS NULL
        UNION ALL SELECT author_id, 0, 1, 0, 0, 0, 0, 0 FROM posts WHERE removed_at IS NULL
        UNION ALL SELECT responder_id, 0, 0, 1, 0, 0, 0, 0 FROM friendship_requests WHERE accepted
        UNION ALL SELECT requester_id, 0, 0, 0, 1, 0, 0, 0 FROM friendship_requests WHERE accepted
        UNION ALL SELECT responder_id, 0, 0, 0, 0, 1, 0, 0 FROM friendship_requests WHERE NOT accepted
        UNION ALL SELECT requester_id, 0, 0, 0, 0, 0, 1, 0 FROM friendship_requests WHERE NOT accepted
        UNION ALL SELECT responder_id, 0, 0, 0, 0, 0, 0, 1 FROM friendship_requests WHERE NOT accepted AND NOT viewed
    ) d(k, w, a, ai, ao, pi, po, ui)
    GROUP BY k;
    INSERT INTO post_counts (post_id, likes, comments)
    SELECT k, sum(l), sum(c) FROM (
        SELECT post_id, 1, 0 FROM post_likes
        UNION ALL SELECT post_id, 0, 1 FROM comments WHERE removed_at IS NULL AND post_id IS NOT NULL) d(k, l, c)
    GROUP BY k;
    INSERT INTO comment_counts (comment_id, likes) SELECT comment_id, count(*) FROM comment_likes GROUP BY comment_id;
    INSERT INTO chat_counts (chat_id, messages) SELECT chat_id, count(*) FROM messages WHERE removed_at IS NULL GROUP BY chat_id;
$$;
CALL recount();
