-- 1,000,000 people for timing GET /users?text= (BENCHMARKS.md, "People search at a million
-- people"). Run with psql on a freshly migrated database, then VACUUM (ANALYZE).
-- First names: 30 Latin, 30 Cyrillic; "Анна" ~10% and "Anna" ~4% of people; six called
-- Evlampiy/Евлампий; 85 last names, Latin and Cyrillic. The caller is u500000: 3,000 friends,
-- each with 30 friends of their own; about 2,000,000 more random friendships.
CREATE TEMP TABLE fn(i int, name text);
INSERT INTO fn SELECT row_number() OVER () - 1, n FROM unnest(ARRAY[
 'John','Michael','David','James','Robert','Mary','Linda','Susan','Karen','Lisa','Sarah','Emily','Hannah','Joanna','Daniel','Thomas','Oliver','Sophia','Emma','Olivia','Alexander','Maxim','Dmitry','Sergey','Natalia','Yulia','Ivan','Peter','Paul','Mark',
 'Мария','Елена','Ольга','Татьяна','Наталья','Ирина','Светлана','Юлия','Екатерина','Александр','Сергей','Дмитрий','Андрей','Алексей','Максим','Иван','Михаил','Николай','Пётр','Фёдор','Артём','Жанна','Щукарь','Ксения','Людмила','Галина','Евгений','Юрий','Яна','Степан']) n;
CREATE TEMP TABLE ln(i int, name text);
INSERT INTO ln SELECT row_number() OVER () - 1, n FROM unnest(ARRAY[
 'Smith','Johnson','Williams','Brown','Jones','Miller','Davis','Wilson','Anderson','Taylor','Moore','Jackson','Martin','Lee','Thompson','White','Harris','Clark','Lewis','Walker','Young','Allen','King','Wright','Scott','Green','Baker','Adams','Nelson','Carter','Petrov','Ivanov','Sidorov','Kuznetsov','Popov','Volkov','Sokolov','Morozov','Novikov','Fedorov',
 'Петрова','Иванова','Смирнова','Кузнецова','Попова','Васильева','Соколова','Михайлова','Новикова','Фёдорова','Морозова','Волкова','Алексеева','Лебедева','Семёнова','Егорова','Павлова','Козлова','Степанова','Николаева','Петров','Иванов','Смирнов','Кузнецов','Попов','Васильев','Соколов','Михайлов','Новиков','Фёдоров','Морозов','Волков','Алексеев','Лебедев','Семёнов','Егоров','Павлов','Козлов','Степанов','Жуков','Щербаков','Чернов','Шубин','Цветков','Хохлов']) n;

INSERT INTO users (id, first_name, last_name, nick, passhash, created_at, last_activity_at)
SELECT gen_random_uuid(),
       CASE WHEN r < 0.10 THEN 'Анна' WHEN r < 0.14 THEN 'Anna'
            ELSE (SELECT name FROM fn WHERE fn.i = (g::bigint * 7919) % 60) END,
       (SELECT name FROM ln WHERE ln.i = (g::bigint * 104729) % 85),
       'u' || g || CASE WHEN g % 3 = 0 THEN '_x' ELSE '' END,
       'x',
       timestamptz '2021-01-01' + g * interval '150 seconds',
       timestamptz '2021-01-01' + g * interval '150 seconds'
FROM (SELECT g, random() AS r FROM generate_series(1, 1000000) g) s;
UPDATE users SET first_name = 'Evlampiy' WHERE nick IN ('u12346', 'u555556', 'u777778', 'u555557');
UPDATE users SET first_name = 'Евлампий' WHERE nick IN ('u12347', 'u777779');

CREATE TEMP TABLE ids AS SELECT id, row_number() OVER (ORDER BY created_at) AS n FROM users;
CREATE INDEX ON ids (n);
CREATE TEMP TABLE caller AS SELECT id FROM users WHERE nick = 'u500000';
CREATE TEMP TABLE cf AS
SELECT DISTINCT i.id FROM ids i
JOIN (SELECT (1 + floor(random() * 1000000))::int AS n FROM generate_series(1, 3050)) p USING (n)
WHERE i.id <> (SELECT id FROM caller) LIMIT 3000;
INSERT INTO friendship_requests (requester_id, responder_id, accepted, viewed, created_at)
SELECT (SELECT id FROM caller), id, true, true, now() FROM cf;
INSERT INTO friendship_requests (requester_id, responder_id, accepted, viewed, created_at)
SELECT p.a, i.id, true, true, now()
FROM (SELECT cf.id AS a, (1 + floor(random() * 1000000))::int AS n FROM cf, generate_series(1, 30)) p
JOIN ids i ON i.n = p.n WHERE p.a <> i.id
ON CONFLICT DO NOTHING;
INSERT INTO friendship_requests (requester_id, responder_id, accepted, viewed, created_at)
SELECT a.id, b.id, true, true, now()
FROM (SELECT (1 + floor(random() * 1000000))::int AS x, (1 + floor(random() * 1000000))::int AS y
      FROM generate_series(1, 2000000)) p
JOIN ids a ON a.n = p.x JOIN ids b ON b.n = p.y WHERE a.id <> b.id
ON CONFLICT DO NOTHING;
