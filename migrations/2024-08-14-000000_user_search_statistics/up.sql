-- The planner chooses between the trigram index (rare texts) and a walk of the newest-first
-- index that stops after a page (common ones) from its estimate of how many keys match the
-- pattern, which it takes from the column's histogram: the share of its entries that match.
-- With the default hundred entries, a rare full name that one entry happens to hold counts for
-- 1 % of everyone — ten thousand people in a million, where a few hundred match — and the
-- search walked the whole index for it. A thousand entries put such a name at 0.1 %, under a
-- page; estimating from them costs a fraction of a millisecond of planning.
ALTER TABLE user_search ALTER COLUMN search_key SET STATISTICS 1000;
ANALYZE user_search;
