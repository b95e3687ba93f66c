-- How many chats a person's chat list holds — their groups, and their private chats once a message
-- is in them — kept in `user_counts` like the other counts (migration `counts`), so that the list's
-- `totalCount` is one row instead of a count of every membership the person has (hundreds for an
-- active person, read on every chat list and messenger page).
ALTER TABLE user_counts ADD COLUMN chats bigint NOT NULL DEFAULT 0;

-- A membership counts while its chat is listed: joining or leaving a listed chat moves the
-- member's count. A membership row never changes its chat or its member, so updates are not
-- watched.
CREATE FUNCTION chat_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        INSERT INTO user_counts (user_id, chats)
        SELECT m.user_id, sum(CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END)
        FROM changed m JOIN chats c ON c.id = m.chat_id
        WHERE c.kind = 'group' OR c.last_message_at IS NOT NULL
        GROUP BY m.user_id ORDER BY m.user_id
        ON CONFLICT (user_id) DO UPDATE SET chats = user_counts.chats + EXCLUDED.chats;
    RETURN NULL;
END;
$$;

CREATE TRIGGER chat_members_inserted_count AFTER INSERT ON chat_members
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION chat_members_count();

CREATE TRIGGER chat_members_deleted_count AFTER DELETE ON chat_members
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION chat_members_count();

-- A private chat enters its members' lists with its first message and leaves them when its last
-- live message is removed. Every message moves `last_message_at`, so this trigger is per row and
-- filtered by its `WHEN`: a send that does not change whether the chat is listed never calls it.
CREATE FUNCTION chats_listed_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts (user_id, chats)
    SELECT user_id, CASE WHEN NEW.kind = 'group' OR NEW.last_message_at IS NOT NULL THEN 1 ELSE -1 END
    FROM chat_members WHERE chat_id = NEW.id ORDER BY user_id
    ON CONFLICT (user_id) DO UPDATE SET chats = user_counts.chats + EXCLUDED.chats;
    RETURN NULL;
END;
$$;

CREATE TRIGGER chats_listed_count AFTER UPDATE OF kind, last_message_at ON chats FOR EACH ROW
    WHEN ((OLD.kind = 'group' OR OLD.last_message_at IS NOT NULL) IS DISTINCT FROM
          (NEW.kind = 'group' OR NEW.last_message_at IS NOT NULL))
    EXECUTE FUNCTION chats_listed_count();

-- `recount()` as before, with the listed chats.
CREATE OR REPLACE PROCEDURE recount() LANGUAGE sql AS $$
    TRUNCATE user_counts, post_counts, comment_counts, chat_counts;
    INSERT INTO user_counts
        (user_id, wall_posts, authored_posts, accepted_in, accepted_out, pending_in, pending_out, unviewed_in, chats)
    SELECT k, sum(w), sum(a), sum(ai), sum(ao), sum(pi), sum(po), sum(ui), sum(ch) FROM (
        SELECT owner_id, 1, 0, 0, 0, 0, 0, 0, 0 FROM posts WHERE removed_at IS NULL
        UNION ALL SELECT author_id, 0, 1, 0, 0, 0, 0, 0, 0 FROM posts WHERE removed_at IS NULL
        UNION ALL SELECT responder_id, 0, 0, 1, 0, 0, 0, 0, 0 FROM friendship_requests WHERE accepted
        UNION ALL SELECT requester_id, 0, 0, 0, 1, 0, 0, 0, 0 FROM friendship_requests WHERE accepted
        UNION ALL SELECT responder_id, 0, 0, 0, 0, 1, 0, 0, 0 FROM friendship_requests WHERE NOT accepted
        UNION ALL SELECT requester_id, 0, 0, 0, 0, 0, 1, 0, 0 FROM friendship_requests WHERE NOT accepted
        UNION ALL SELECT responder_id, 0, 0, 0, 0, 0, 0, 1, 0 FROM friendship_requests WHERE NOT accepted AND NOT viewed
        UNION ALL SELECT m.user_id, 0, 0, 0, 0, 0, 0, 0, 1 FROM chat_members m JOIN chats c ON c.id = m.chat_id
            WHERE c.kind = 'group' OR c.last_message_at IS NOT NULL
    ) d(k, w, a, ai, ao, pi, po, ui, ch)
    GROUP BY k;
    INSERT INTO post_counts (post_id, likes, comments)
    SELECT k, sum(l), sum(c) FROM (
        SELECT post_id, 1, 0 FROM post_likes
        UNION ALL SELECT post_id, 0, 1 FROM comments WHERE removed_at IS NULL AND post_id IS NOT NULL) d(k, l, c)
    GROUP BY k;
    INSERT INTO comment_counts (comment_id, likes) SELECT comment_id, count(*) FROM comment_likes GROUP BY comment_id;
    INSERT INTO chat_counts (chat_id, messages) SELECT chat_id, count(*) FROM messages WHERE removed_at IS NULL GROUP BY chat_id;
$$;

UPDATE user_counts c SET chats = n.chats FROM (
    SELECT m.user_id, count(*) AS chats FROM chat_members m JOIN chats c ON c.id = m.chat_id
    WHERE c.kind = 'group' OR c.last_message_at IS NOT NULL GROUP BY m.user_id) n
WHERE c.user_id = n.user_id;
INSERT INTO user_counts (user_id, chats)
SELECT m.user_id, count(*) FROM chat_members m JOIN chats c ON c.id = m.chat_id
WHERE c.kind = 'group' OR c.last_message_at IS NOT NULL GROUP BY m.user_id
ON CONFLICT (user_id) DO NOTHING;
