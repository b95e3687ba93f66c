DROP TRIGGER users_renamed_search ON users;
DROP TRIGGER users_registered_search ON users;
DROP FUNCTION user_search_renamed();
DROP FUNCTION user_search_registered();
ALTER TABLE users ADD COLUMN search_key text NOT NULL
    GENERATED ALWAYS AS (' ' || user_search_fold(first_name || ' ' || last_name || ' ' || nick)) STORED;
CREATE INDEX users_search_key_trgm_idx ON users USING gin (search_key gin_trgm_ops);
DROP TABLE user_search;
DROP FUNCTION user_search_key(text, text, text);
