DROP TRIGGER chats_listed_count ON chats;
DROP TRIGGER chat_members_inserted_count ON chat_members;
DROP TRIGGER chat_members_deleted_count ON chat_members;
DROP FUNCTION chats_listed_count();
DROP FUNCTION chat_members_count();
ALTER TABLE user_counts DROP COLUMN chats;
CREATE OR REPLACE PROCEDURE recount() LANGUAGE sql AS $$
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
