-- People search that finds names as people type them, in either alphabet (API.md §5.2).
--
-- Every user gets a stored search key: " first last nick", folded by `user_search_fold` to one
-- lowercase Latin form. A generated column rather than a trigger or the application: every write
-- path — the API, the seed loaders' binary COPY, a hand-written UPDATE — keeps it right. Stored
-- rather than an expression index so that filtering a row while walking the registration index
-- reads the key instead of folding three strings again. The leading space marks the first
-- word's start, so "a word starts with X" is `LIKE '% X%'` for every word alike.
--
-- The query goes through the same function (`user_search_pattern`), called by the statement
-- itself on the parameter: the application never folds, so the key and the query cannot fold
-- differently.

-- One Latin spelling for Latin and Cyrillic text:
--   * case: lower(), plus an explicit upper→lower table for Cyrillic, so the result does not
--     depend on the database's LC_CTYPE (under the plain C locale lower() leaves Cyrillic alone);
--   * Cyrillic (Russian, plus Ukrainian і ї є ґ and Belarusian ў) transliterated, ё as е:
--       а a  б b  в v  г g  д d  е e  ё e  ж zh  з z  и i  й y  к k  л l  м m  н n  о o  п p
--       р r  с s  т t  у u  ф f  х kh  ц ts  ч ch  ш sh  щ shch  ъ —  ы y  ь —  э e  ю yu  я ya
--       і i  ї yi  є ye  ґ g  ў u          (ъ and ь are dropped: Наталья → natalya, Ольга → olga)
--   * Latin x as ks, so "Alexey" meets "Алексей" (aleksey) and "Max" meets "Макс" (maks).
-- Everything else (digits, `_`, `.`, spaces, other scripts) passes through lowercased. One
-- table cannot meet every spelling people use: "Yulia" meets "Юлия" (yuliya) only as far as
-- "yuli", and "Iuliia" not at all.
--
-- IMMUTABLE is true here: lower(), translate() and replace() are immutable, and the tables are
-- literals. Changing the table means a new function and a new column (the stored keys would
-- otherwise keep the old folding).
CREATE FUNCTION user_search_fold(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
SELECT translate(
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        translate(lower(t),
            'АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯІЇЄҐЎ',
            'абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў'),
        'x', 'ks'), 'ж', 'zh'), 'х', 'kh'), 'ц', 'ts'), 'ч', 'ch'), 'ш', 'sh'), 'щ', 'shch'),
        'ю', 'yu'), 'я', 'ya'), 'ї', 'yi'), 'є', 'ye'),
    'абвгдеёзийклмнопрстуфыэіґўъь',
    'abvgdeeziyklmnoprstufyeigu')
$$;

-- The LIKE pattern for what someone typed, or NULL (matches nobody) when no letter or digit is
-- left of it: punctuation alone ("...", "-") has no trigram either, and would read every row.
-- Folded and trimmed of spaces; `%`, `_` and `\` are literal. Three characters or more (folded:
-- "Ж" is already "zh", two): anywhere in the key, the trigram index's case. One or two: the
-- start of a word (first name, last name or nick), which the trigram index answers from its
-- word-start trigrams ("  a", " an") — a one- or two-letter substring has no trigram at all and
-- would scan every row.
CREATE FUNCTION user_search_pattern(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
SELECT CASE
    WHEN f !~ '[[:alnum:]]' THEN NULL
    WHEN length(f) < 3 THEN '% ' || replace(replace(replace(f, '\', '\\'), '%', '\%'), '_', '\_') || '%'
    ELSE '%' || replace(replace(replace(f, '\', '\\'), '%', '\%'), '_', '\_') || '%'
END
FROM (SELECT btrim(user_search_fold(t), E' \t\r\n') AS f) folded
$$;

-- Rewrites the table once (a few seconds per million people, under an exclusive lock).
ALTER TABLE users ADD COLUMN search_key text NOT NULL
    GENERATED ALWAYS AS (' ' || user_search_fold(first_name || ' ' || last_name || ' ' || nick)) STORED;

DROP INDEX users_search_trgm_idx;
-- Substrings of three characters or more, and word starts (see user_search_pattern).
CREATE INDEX users_search_key_trgm_idx ON users USING gin (search_key gin_trgm_ops);
