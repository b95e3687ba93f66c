-- A version per wall, bumped in the transaction of every write that changes what the wall's page
-- shows: a post written, edited or removed on it, a comment on one of its posts, a like of either.
-- Nodes keep walls' first pages in memory and serve one only while its version is unchanged: the
-- check reads one row in the same statement as the viewer's own likes, so a cached page costs one
-- statement instead of six and is never older than the reader's snapshot, whichever node wrote.
--
-- Triggers rather than application code: a write path added later cannot forget the bump. They
-- run once per statement over its transition table, so a bulk insert (a seed) bumps each wall
-- once, not once per row. No foreign key: a wall's version outlives nothing that matters, and a
-- bump then costs no key check.
CREATE TABLE wall_versions (
    owner_id uuid   PRIMARY KEY,
    version  bigint NOT NULL
);

-- One PL/pgSQL function per table, each with its whole statement inline: PL/pgSQL keeps the plan
-- (a LANGUAGE sql helper would be planned again on every call). Walls are bumped in owner order,
-- so two transactions touching the same walls cannot deadlock on them.
CREATE FUNCTION posts_bump_walls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wall_versions (owner_id, version)
    SELECT DISTINCT owner_id, 1 FROM changed ORDER BY owner_id
    ON CONFLICT (owner_id) DO UPDATE SET version = wall_versions.version + 1;
    RETURN NULL;
END;
$$;
CREATE FUNCTION comments_bump_walls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wall_versions (owner_id, version)
    SELECT DISTINCT p.owner_id, 1 FROM changed c JOIN posts p ON p.id = c.post_id ORDER BY p.owner_id
    ON CONFLICT (owner_id) DO UPDATE SET version = wall_versions.version + 1;
    RETURN NULL;
END;
$$;
CREATE FUNCTION post_likes_bump_walls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wall_versions (owner_id, version)
    SELECT DISTINCT p.owner_id, 1 FROM changed l JOIN posts p ON p.id = l.post_id ORDER BY p.owner_id
    ON CONFLICT (owner_id) DO UPDATE SET version = wall_versions.version + 1;
    RETURN NULL;
END;
$$;
CREATE FUNCTION comment_likes_bump_walls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wall_versions (owner_id, version)
    SELECT DISTINCT p.owner_id, 1
    FROM changed l JOIN comments c ON c.id = l.comment_id JOIN posts p ON p.id = c.post_id
    ORDER BY p.owner_id
    ON CONFLICT (owner_id) DO UPDATE SET version = wall_versions.version + 1;
    RETURN NULL;
END;
$$;

-- PostgreSQL allows a transition table only on a single-event trigger: three per table.
CREATE TRIGGER posts_inserted_bump AFTER INSERT ON posts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_bump_walls();
CREATE TRIGGER posts_updated_bump AFTER UPDATE ON posts
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_bump_walls();
CREATE TRIGGER posts_deleted_bump AFTER DELETE ON posts
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posts_bump_walls();

CREATE TRIGGER comments_inserted_bump AFTER INSERT ON comments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comments_bump_walls();
CREATE TRIGGER comments_updated_bump AFTER UPDATE ON comments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comments_bump_walls();
CREATE TRIGGER comments_deleted_bump AFTER DELETE ON comments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comments_bump_walls();

CREATE TRIGGER post_likes_inserted_bump AFTER INSERT ON post_likes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION post_likes_bump_walls();
CREATE TRIGGER post_likes_deleted_bump AFTER DELETE ON post_likes
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION post_likes_bump_walls();

CREATE TRIGGER comment_likes_inserted_bump AFTER INSERT ON comment_likes
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comment_likes_bump_walls();
CREATE TRIGGER comment_likes_deleted_bump AFTER DELETE ON comment_likes
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comment_likes_bump_walls();
