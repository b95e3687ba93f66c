-- Fills the users table with 100,000 people and shows the plans of the user queries.
-- Run through scripts/explain, on a freshly migrated database.
INSERT INTO users (first_name, last_name, nick, passhash, created_at, last_activity_at)
SELECT 'First' || i, 'Last' || (i % 977), 'nick' || i, 'x', now() - (i || ' seconds')::interval, now()
FROM generate_series(1, 100000) i;
VACUUM ANALYZE users, user_search;
\echo '--- GET /users?text=last97 (the rest section of a page: no friends here)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT user_id FROM user_search
WHERE search_key LIKE user_search_pattern('last97')
ORDER BY created_at DESC, user_id DESC LIMIT 21;
\echo '--- GET /users?text=nick4242 (totalCount, capped at 1,000)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM (
    SELECT FROM user_search WHERE search_key LIKE user_search_pattern('nick4242') LIMIT 1000
) matched;
\echo '--- GET /users?text=fi (one or two letters: word starts)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT user_id FROM user_search
WHERE search_key LIKE user_search_pattern('fi')
ORDER BY created_at DESC, user_id DESC LIMIT 21;
\echo '--- POST /login (nick lookup)'
EXPLAIN (COSTS OFF) SELECT id, passhash FROM users WHERE lower(nick) = lower('nick77');
\echo '--- GET /users/:id'
EXPLAIN (COSTS OFF) SELECT * FROM users WHERE id = '00000000-0000-0000-0000-000000000001';
