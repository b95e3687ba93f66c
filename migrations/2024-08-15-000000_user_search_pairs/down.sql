DROP TRIGGER user_search_reindexed ON user_search;
DROP TRIGGER user_search_indexed ON user_search;
DROP FUNCTION user_search_reindexed();
DROP FUNCTION user_search_indexed();
DROP FUNCTION user_search_prefix_pattern(text);
DROP FUNCTION user_search_pair_route(text);
DROP FUNCTION user_search_key_pairs(text);
DROP TABLE user_search_pairs;
DROP TABLE user_search_words;
