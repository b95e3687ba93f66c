-- Fills walls, comments, likes and friendships with well over 100,000 rows each and shows the
-- plans of every list query. Run through scripts/explain, after explain-1-users.sql.
\set wall_owner '''00000000-0000-0000-0000-000000000001'''
INSERT INTO users (id, first_name, last_name, nick, passhash, created_at, last_activity_at)
VALUES (:wall_owner, 'Wall', 'Owner', 'wall_owner', 'x', now(), now());
-- 200,000 posts, spread over the 100,000 users' walls; 2,000 on one wall.
CREATE TEMP TABLE numbered AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users WHERE id <> :wall_owner;
INSERT INTO posts (author_id, owner_id, message, created_at)
SELECT u.id, u.id, 'post', now() - (i || ' seconds')::interval
FROM generate_series(1, 198000) i JOIN numbered u ON u.n = i % 100000;
INSERT INTO posts (author_id, owner_id, message, created_at)
SELECT :wall_owner, :wall_owner, 'post', now() - (i || ' seconds')::interval FROM generate_series(1, 2000) i;
-- 300,000 comments: 3,000 under each of the wall owner's 100 newest posts.
INSERT INTO comments (post_id, author_id, message, created_at)
SELECT p.id, :wall_owner, 'comment', now() - (i || ' seconds')::interval
FROM (SELECT id FROM posts WHERE owner_id = :wall_owner ORDER BY created_at DESC LIMIT 100) p,
     generate_series(1, 3000) i;
-- 200,000 post likes: 2,000 users like each of the wall owner's 100 newest posts.
INSERT INTO post_likes (post_id, user_id, liked_at)
SELECT p.id, u.id, now()
FROM (SELECT id FROM posts WHERE owner_id = :wall_owner ORDER BY created_at DESC LIMIT 100) p,
     (SELECT id FROM users ORDER BY created_at LIMIT 2000) u;
-- 150,000 comment likes.
INSERT INTO comment_likes (comment_id, user_id, liked_at)
SELECT c.id, u.id, now()
FROM (SELECT id FROM comments ORDER BY created_at DESC LIMIT 1500) c,
     (SELECT id FROM users ORDER BY created_at LIMIT 100) u;
-- 100,000 friendship rows: a chain, plus 1,000 requests to the wall owner.
INSERT INTO friendship_requests (requester_id, responder_id, message, accepted, viewed, created_at)
SELECT a.id, b.id, '', a.n % 3 = 0, a.n % 2 = 0, now() - (a.n || ' seconds')::interval
FROM numbered a JOIN numbered b ON b.n = a.n + 1
ON CONFLICT DO NOTHING;
INSERT INTO friendship_requests (requester_id, responder_id, message, accepted, viewed, created_at)
SELECT id, :wall_owner, '', false, false, now() FROM users WHERE id <> :wall_owner ORDER BY created_at LIMIT 1000
ON CONFLICT DO NOTHING;
ANALYZE;
SELECT (SELECT count(*) FROM posts) AS posts, (SELECT count(*) FROM comments) AS comments,
       (SELECT count(*) FROM post_likes) AS post_likes, (SELECT count(*) FROM comment_likes) AS comment_likes,
       (SELECT count(*) FROM friendship_requests) AS friendships;

-- The page of posts a wall shows first: the ids the per-page queries below receive.
CREATE TEMP TABLE wall_page AS
SELECT id FROM posts WHERE owner_id = :wall_owner AND removed_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 10;

\echo '--- GET /posts?ownerId= (page after a cursor)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM posts WHERE removed_at IS NULL AND owner_id = :wall_owner
  AND (created_at, id) < (now() - interval '100 seconds', '00000000-0000-0000-0000-000000000000')
ORDER BY created_at DESC, id DESC LIMIT 11;
\echo '--- GET /posts?authorId= (totalCount)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM posts WHERE removed_at IS NULL AND author_id = :wall_owner;
\echo '--- GET /comments?postId= (page) and recentComments (first page of each post)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM comments WHERE post_id = (SELECT id FROM wall_page LIMIT 1)
  AND removed_at IS NULL ORDER BY created_at, id LIMIT 6;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT c.* FROM unnest(ARRAY(SELECT id FROM wall_page)) AS p(id)
CROSS JOIN LATERAL (SELECT * FROM comments WHERE post_id = p.id AND removed_at IS NULL ORDER BY created_at, id LIMIT 6) c;
\echo '--- likes of a page of posts: counts, and the first five likers'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT post_id, count(*), bool_or(user_id = :wall_owner) FROM post_likes
WHERE post_id = ANY(ARRAY(SELECT id FROM wall_page)) GROUP BY post_id;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT t.id, l.user_id FROM unnest(ARRAY(SELECT id FROM wall_page)) AS t(id)
CROSS JOIN LATERAL (SELECT user_id, seq FROM post_likes WHERE post_id = t.id ORDER BY seq LIMIT 5) l;
\echo '--- GET /friendship?userId= (both directions, newest first)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM (
  (SELECT f.requester_id AS other_id, true AS incoming, f.accepted, f.created_at FROM friendship_requests f WHERE f.responder_id = :wall_owner)
  UNION ALL
  (SELECT f.responder_id AS other_id, false AS incoming, f.accepted, f.created_at FROM friendship_requests f WHERE f.requester_id = :wall_owner)
) rows ORDER BY created_at DESC, other_id DESC LIMIT 11;
