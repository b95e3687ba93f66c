DROP INDEX users_search_key_trgm_idx;
ALTER TABLE users DROP COLUMN search_key;
DROP FUNCTION user_search_pattern(text);
DROP FUNCTION user_search_fold(text);
CREATE INDEX users_search_trgm_idx ON users
    USING gin ((first_name || ' ' || last_name || ' ' || nick) gin_trgm_ops);
