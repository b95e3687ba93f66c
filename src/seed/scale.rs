//! `nosebook seed scale --people N`: a large, realistic social graph for load tests and query
//! plans, in the spirit of the LDBC Social Network Benchmark. Everything derives from `--seed`
//! (ids, names, times: two runs with one seed load the same rows), and everyone's password is
//! [`PASSWORD`].
//!
//! Speed is the point (a million people, tens of millions of rows, in minutes on two cores), so
//! the rows are not written through the application's queries but streamed with binary `COPY`:
//! - a generator thread builds the rows while PostgreSQL ingests them (one core each);
//! - everything goes in one transaction that first truncates the (empty) tables, so `COPY FREEZE`
//!   writes rows already frozen and visible and the final `VACUUM` has nothing to rewrite;
//! - foreign-key checks and the triggers are skipped (`session_replication_role`): the generator
//!   guarantees the keys, writes `wall_versions` itself, fills people search's tables
//!   (`user_search`, its word pairs and words) from the people once they are in, and the
//!   denormalised counts the triggers keep are computed once at the end (`CALL recount()`);
//! - indexes that no constraint owns are dropped before a table's load and recreated right after
//!   from their own definitions, so the schema ends exactly as `nosebook migrate` left it;
//! - ids are random-looking version-4 UUIDs that nevertheless increase in load order, so primary
//!   keys grow at their right edge instead of splitting pages all over.
//!
//! The rows look like what the server writes: one friendship row per pair, `chats.last_message_*`
//! pointing at each chat's newest message, members' `last_read_seq` inside their chat's `seq`s,
//! private chats keyed by their ordered pair, a version for every wall with something on it.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use bytes::{BufMut, Bytes, BytesMut};
use chrono::{TimeZone, Utc};
use futures_util::SinkExt;
use tokio::sync::mpsc;
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

/// Everyone's password, so that a load test can sign in as anybody.
pub const PASSWORD: &str = "nosebook-scale";
/// The seed used when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 0x5eed_2024;
/// The nick of the well-known person benchmarks start from.
pub const ANNA: &str = "anna";

/// The data set's "now": times are spread over the three years before it. Fixed, so that the
/// same seed gives the same rows whenever it runs.
fn anchor_micros() -> i64 {
    let anchor = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().unwrap_or_default();
    let epoch = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().unwrap_or_default();
    (anchor - epoch).num_microseconds().unwrap_or_default()
}

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;

// ---------------------------------------------------------------------------------------------
// Randomness: splitmix64, small and fast, and fixed forever (a crate's generator may change its
// stream between versions, which would change the data set).

#[derive(Clone)]
struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        Self(mix(seed ^ mix(stream.wrapping_add(0x9e37_79b9_7f4a_7c15))))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low { low } else { low + self.below((high - low) as u64) as i64 }
    }
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
    /// A Lomax (Pareto II) draw with mean 1: heavy tailed, mostly small.
    fn heat(&mut self, alpha: f64) -> f64 {
        let u = 1.0 - self.unit();
        (u.powf(-1.0 / alpha) - 1.0) * (alpha - 1.0)
    }
    /// Rounds `x` up or down at random, keeping the expectation.
    fn round(&mut self, x: f64) -> u64 {
        let floor = x.floor();
        floor as u64 + u64::from(self.chance(x - floor))
    }
}

/// Ids of one table: version-4 UUIDs that look random but grow with `index`.
#[derive(Clone, Copy)]
struct Ids {
    offset: u128,
    stride_bits: u32,
    salt: u64,
}

impl Ids {
    fn new(seed: u64, table: u64, capacity: usize) -> Self {
        let bits = (capacity.max(2) as u64).next_power_of_two().trailing_zeros();
        let stride_bits = 122 - bits;
        let used = (capacity.max(1) as u128) << stride_bits;
        let room = (1u128 << 122) - used;
        let mut rng = Rng::new(seed, table);
        let offset = ((u128::from(rng.next()) << 64) | u128::from(rng.next())) % room.max(1);
        Self { offset, stride_bits, salt: rng.next() }
    }

    fn get(&self, index: usize) -> u128 {
        let random = (u128::from(mix(index as u64 ^ self.salt)) << 64) | u128::from(mix(!(index as u64) ^ self.salt));
        let jitter = random & ((1u128 << self.stride_bits) - 1);
        let rank = self.offset + ((index as u128) << self.stride_bits) + jitter;
        // 122 random bits around the version and variant fields, so order is kept.
        let high = rank >> 74;
        let mid = (rank >> 62) & 0xfff;
        let low = rank & ((1u128 << 62) - 1);
        (high << 80) | (0x4 << 76) | (mid << 64) | (0b10 << 62) | low
    }
}

// ---------------------------------------------------------------------------------------------
// Binary COPY rows.

const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
const CHUNK: usize = 1 << 20;

enum Piece {
    /// A table starts: the COPY statement, and the table's name for the progress line.
    Start {
        table: &'static str,
        copy: String,
    },
    Data(Bytes),
    /// The table is complete, with this many rows.
    End {
        rows: u64,
    },
}

struct Out {
    tx: mpsc::Sender<Piece>,
    buf: BytesMut,
    rows: u64,
}

/// The receiving side went away: the load failed and the generator just stops.
#[derive(Debug)]
struct Gone;

impl Out {
    fn new(tx: mpsc::Sender<Piece>) -> Self {
        Self { tx, buf: BytesMut::with_capacity(CHUNK * 2), rows: 0 }
    }
    fn send(&self, piece: Piece) -> Result<(), Gone> {
        self.tx.blocking_send(piece).map_err(|_| Gone)
    }
    fn start(&mut self, table: &'static str, columns: &str) -> Result<(), Gone> {
        self.send(Piece::Start {
            table,
            copy: format!("COPY {table} ({columns}) FROM STDIN (FORMAT binary, FREEZE)"),
        })?;
        self.rows = 0;
        self.buf.put_slice(COPY_HEADER);
        Ok(())
    }
    fn row(&mut self, fields: i16) -> Result<(), Gone> {
        if self.buf.len() >= CHUNK {
            let chunk = self.buf.split().freeze();
            self.send(Piece::Data(chunk))?;
        }
        self.rows += 1;
        self.buf.put_i16(fields);
        Ok(())
    }
    fn uuid(&mut self, id: u128) {
        self.buf.put_i32(16);
        self.buf.put_u128(id);
    }
    fn opt_uuid(&mut self, id: Option<u128>) {
        match id {
            Some(id) => self.uuid(id),
            None => self.buf.put_i32(-1),
        }
    }
    fn time(&mut self, micros: i64) {
        self.buf.put_i32(8);
        self.buf.put_i64(micros);
    }
    fn int(&mut self, value: i64) {
        self.buf.put_i32(8);
        self.buf.put_i64(value);
    }
    fn flag(&mut self, value: bool) {
        self.buf.put_i32(1);
        self.buf.put_u8(u8::from(value));
    }
    fn text(&mut self, value: &str) {
        self.buf.put_i32(value.len() as i32);
        self.buf.put_slice(value.as_bytes());
    }
    fn null(&mut self) {
        self.buf.put_i32(-1);
    }
    fn end(&mut self) -> Result<(), Gone> {
        self.buf.put_i16(-1);
        let chunk = self.buf.split().freeze();
        self.send(Piece::Data(chunk))?;
        self.send(Piece::End { rows: self.rows })
    }
}

// ---------------------------------------------------------------------------------------------
// Names and words.

/// Russian first names, `(Cyrillic, Latin)`, commonest first.
const WOMEN: &[(&str, &str)] = &[
    ("Анна", "Anna"),
    ("Мария", "Maria"),
    ("Елена", "Elena"),
    ("Ольга", "Olga"),
    ("Наталья", "Natalia"),
    ("Екатерина", "Ekaterina"),
    ("Татьяна", "Tatiana"),
    ("Ирина", "Irina"),
    ("Светлана", "Svetlana"),
    ("Юлия", "Yulia"),
    ("Дарья", "Daria"),
    ("Алина", "Alina"),
    ("Ксения", "Ksenia"),
    ("Виктория", "Victoria"),
    ("Полина", "Polina"),
    ("Софья", "Sofia"),
    ("Александра", "Alexandra"),
    ("Марина", "Marina"),
    ("Вера", "Vera"),
    ("Людмила", "Lyudmila"),
    ("Галина", "Galina"),
    ("Валентина", "Valentina"),
    ("Кристина", "Kristina"),
    ("Ангелина", "Angelina"),
    ("Арина", "Arina"),
    ("Ева", "Eva"),
    ("Алиса", "Alisa"),
    ("Вероника", "Veronika"),
    ("Надежда", "Nadezhda"),
    ("Любовь", "Lyubov"),
];
const MEN: &[(&str, &str)] = &[
    ("Иван", "Ivan"),
    ("Александр", "Alexander"),
    ("Дмитрий", "Dmitry"),
    ("Сергей", "Sergey"),
    ("Андрей", "Andrey"),
    ("Алексей", "Alexey"),
    ("Максим", "Maxim"),
    ("Михаил", "Mikhail"),
    ("Николай", "Nikolai"),
    ("Владимир", "Vladimir"),
    ("Евгений", "Evgeny"),
    ("Павел", "Pavel"),
    ("Артём", "Artem"),
    ("Никита", "Nikita"),
    ("Егор", "Egor"),
    ("Кирилл", "Kirill"),
    ("Роман", "Roman"),
    ("Олег", "Oleg"),
    ("Игорь", "Igor"),
    ("Юрий", "Yury"),
    ("Борис", "Boris"),
    ("Виктор", "Viktor"),
    ("Георгий", "Georgy"),
    ("Тимур", "Timur"),
    ("Константин", "Konstantin"),
    ("Степан", "Stepan"),
    ("Фёдор", "Fedor"),
    ("Григорий", "Grigory"),
    ("Лев", "Lev"),
    ("Матвей", "Matvey"),
];
/// Russian surnames in their masculine form; the feminine adds "а" / "a".
const SURNAMES: &[(&str, &str)] = &[
    ("Иванов", "Ivanov"),
    ("Смирнов", "Smirnov"),
    ("Кузнецов", "Kuznetsov"),
    ("Попов", "Popov"),
    ("Васильев", "Vasiliev"),
    ("Петров", "Petrov"),
    ("Соколов", "Sokolov"),
    ("Михайлов", "Mikhailov"),
    ("Новиков", "Novikov"),
    ("Фёдоров", "Fedorov"),
    ("Морозов", "Morozov"),
    ("Волков", "Volkov"),
    ("Алексеев", "Alekseev"),
    ("Лебедев", "Lebedev"),
    ("Семёнов", "Semenov"),
    ("Егоров", "Egorov"),
    ("Павлов", "Pavlov"),
    ("Козлов", "Kozlov"),
    ("Степанов", "Stepanov"),
    ("Николаев", "Nikolaev"),
    ("Орлов", "Orlov"),
    ("Андреев", "Andreev"),
    ("Макаров", "Makarov"),
    ("Никитин", "Nikitin"),
    ("Захаров", "Zakharov"),
    ("Зайцев", "Zaitsev"),
    ("Соловьёв", "Solovyov"),
    ("Борисов", "Borisov"),
    ("Яковлев", "Yakovlev"),
    ("Григорьев", "Grigoriev"),
    ("Романов", "Romanov"),
    ("Воробьёв", "Vorobyov"),
    ("Сергеев", "Sergeev"),
    ("Кузьмин", "Kuzmin"),
    ("Фролов", "Frolov"),
    ("Александров", "Alexandrov"),
    ("Дмитриев", "Dmitriev"),
    ("Королёв", "Korolev"),
    ("Гусев", "Gusev"),
    ("Киселёв", "Kiselev"),
];
const WESTERN_WOMEN: &[&str] =
    &["Emma", "Olivia", "Sophie", "Laura", "Julia", "Sarah", "Emily", "Chloe", "Lucy", "Mia", "Charlotte", "Grace"];
const WESTERN_MEN: &[&str] =
    &["John", "James", "David", "Michael", "Thomas", "Daniel", "Peter", "Paul", "Mark", "Lucas", "Oliver", "Jack"];
const WESTERN_SURNAMES: &[&str] = &[
    "Smith", "Johnson", "Brown", "Miller", "Wilson", "Martin", "Schmidt", "Garcia", "Rossi", "Dubois", "Novak",
    "Jensen", "Berg", "Taylor", "Moore", "Clark",
];
const WORDS_RU: &[&str] = &[
    "привет",
    "как",
    "дела",
    "сегодня",
    "завтра",
    "вчера",
    "отлично",
    "спасибо",
    "да",
    "нет",
    "может",
    "быть",
    "встретимся",
    "вечером",
    "кофе",
    "работа",
    "погода",
    "солнце",
    "дождь",
    "город",
    "дом",
    "друзья",
    "фото",
    "отпуск",
    "море",
    "горы",
    "книга",
    "фильм",
    "музыка",
    "концерт",
    "новости",
    "проект",
    "время",
    "очень",
    "хорошо",
    "интересно",
    "смешно",
    "понятно",
    "кстати",
    "вообще",
    "точно",
    "думаю",
    "знаю",
    "хочу",
    "надо",
    "идём",
    "смотри",
    "классно",
    "увидимся",
    "пока",
];
const WORDS_EN: &[&str] = &[
    "hello",
    "how",
    "are",
    "you",
    "today",
    "tomorrow",
    "yesterday",
    "great",
    "thanks",
    "yes",
    "no",
    "maybe",
    "meet",
    "tonight",
    "coffee",
    "work",
    "weather",
    "sunny",
    "rain",
    "city",
    "home",
    "friends",
    "photo",
    "holiday",
    "sea",
    "mountains",
    "book",
    "movie",
    "music",
    "concert",
    "news",
    "project",
    "time",
    "really",
    "good",
    "interesting",
    "funny",
    "sure",
    "actually",
    "think",
    "know",
    "want",
    "need",
    "lets",
    "go",
    "look",
    "awesome",
    "see",
    "later",
    "bye",
];
const REQUEST_NOTES: &[&str] =
    &["Hi!", "Привет!", "We met at the conference", "Помнишь меня?", "Add me?", "Давай дружить", "From work"];
const GROUP_TITLES: &[&str] = &[
    "Family",
    "Семья",
    "Work",
    "Работа",
    "Football on Sundays",
    "Одноклассники",
    "Book club",
    "Поход в горы",
    "Neighbours",
    "Соседи",
    "Trip planning",
    "Дача",
    "Band practice",
    "Кино по пятницам",
];

/// Picks from a list where the first entry takes `top` of the draws and the others follow Zipf.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(len: usize, top: f64) -> Self {
        let rest: f64 = (2..=len).map(|k| 1.0 / k as f64).sum();
        let mut total = 0.0;
        let cumulative = (1..=len)
            .map(|k| {
                total += if k == 1 { top } else { (1.0 - top) / (k as f64 * rest) };
                total
            })
            .collect();
        Self { cumulative }
    }
    fn pick(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cumulative.partition_point(|&c| c < u).min(self.cumulative.len() - 1)
    }
}

fn sentence(rng: &mut Rng, cyrillic: bool, min: usize, max: usize, out: &mut String) {
    out.clear();
    let words = if cyrillic { WORDS_RU } else { WORDS_EN };
    let n = min + rng.index(max - min + 1);
    for i in 0..n {
        let word = words[rng.index(words.len())];
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(word);
        }
    }
    out.push(if rng.chance(0.2) { '!' } else { '.' });
}

// ---------------------------------------------------------------------------------------------
// The plan: sizes scale with the number of people; a few figures are capped at small sizes.

struct Sizes {
    people: usize,
    anna_friends: usize,
    anna_posts: usize,
    anna_chats: usize,
    big_chats: usize,
    big_chat_messages: usize,
    celebrities: usize,
    celebrity_friends: usize,
    /// Friendship rows to draw (before duplicates fall out), per person.
    pairs_per_person: f64,
    posts_per_person: f64,
    messages_per_person: f64,
}

impl Sizes {
    fn new(people: usize) -> Self {
        Self {
            people,
            anna_friends: 3_000.min(people / 4),
            anna_posts: 5_000.min(people / 2),
            anna_chats: 500.min(people / 8),
            big_chats: (people / 200_000).clamp(2, 5),
            big_chat_messages: 100_000.min(2 * people + 1_000),
            celebrities: (people / 500).max(1),
            celebrity_friends: 5_000.min(people / 10),
            pairs_per_person: 34.0,
            posts_per_person: 10.0,
            messages_per_person: 10.0,
        }
    }
}

struct Person {
    created: i64,
    cyrillic: bool,
}

struct Chat {
    group: bool,
    title_index: usize,
    created: i64,
    last: i64,
    messages: usize,
    /// Index of its first message, which has `seq` = `first_message + 1`.
    first_message: usize,
    members: std::ops::Range<usize>,
}

struct Generator {
    seed: u64,
    sizes: Sizes,
    anchor: i64,
    passhash: String,
    anna: usize,
    people: Vec<Person>,
    user_ids: Ids,
    /// Accepted friends of each person (compressed rows).
    friend_start: Vec<u32>,
    friends: Vec<u32>,
    /// How many writes touched each wall: its version, as the wall triggers would count it.
    wall_versions: Vec<u32>,
}

impl Generator {
    fn friends_of(&self, person: usize) -> &[u32] {
        &self.friends[self.friend_start[person] as usize..self.friend_start[person + 1] as usize]
    }

    fn run(mut self, tx: mpsc::Sender<Piece>) -> Result<(), Gone> {
        let mut out = Out::new(tx);
        self.users(&mut out)?;
        self.friendships(&mut out)?;
        let posts = self.posts(&mut out)?;
        self.comments_and_likes(&mut out, &posts)?;
        drop(posts);
        self.chats(&mut out)?;
        self.walls(&mut out)
    }

    fn users(&mut self, out: &mut Out) -> Result<(), Gone> {
        let n = self.sizes.people;
        let mut rng = Rng::new(self.seed, 1);
        let women = Zipf::new(WOMEN.len(), 0.28);
        let men = Zipf::new(MEN.len(), 0.25);
        let surnames = Zipf::new(SURNAMES.len(), 0.2);
        let mut nicks: HashSet<String> = HashSet::with_capacity(n);
        nicks.insert(ANNA.to_owned());
        out.start("users", "id, first_name, last_name, nick, passhash, created_at, last_activity_at")?;
        let (mut first, mut last, mut nick) = (String::new(), String::new(), String::new());
        for i in 0..n {
            let created = self.anchor - rng.between(DAY, 3 * YEAR);
            let last_active = match rng.unit() {
                u if u < 0.6 => self.anchor - rng.between(0, 7 * DAY),
                u if u < 0.85 => self.anchor - rng.between(7 * DAY, 90 * DAY),
                // Long gone: last seen soon after signing up.
                _ => created + rng.between(0, 30 * DAY),
            }
            .clamp(created, self.anchor);
            let woman = rng.chance(0.5);
            let western = rng.chance(0.2);
            let cyrillic = !western && rng.chance(0.55);
            first.clear();
            last.clear();
            let (latin_first, latin_last): (&str, String);
            if i == self.anna {
                first.push_str("Anna");
                last.push_str("Petrova");
                nick.clear();
                nick.push_str(ANNA);
                self.people.push(Person { created: self.anchor - 3 * YEAR + DAY, cyrillic: false });
                out.row(7)?;
                out.uuid(self.user_ids.get(i));
                out.text(&first);
                out.text(&last);
                out.text(&nick);
                out.text(&self.passhash);
                out.time(self.anchor - 3 * YEAR + DAY);
                out.time(self.anchor);
                continue;
            }
            if western {
                let names = if woman { WESTERN_WOMEN } else { WESTERN_MEN };
                latin_first = names[rng.index(names.len())];
                latin_last = WESTERN_SURNAMES[rng.index(WESTERN_SURNAMES.len())].to_owned();
                first.push_str(latin_first);
                last.push_str(&latin_last);
            } else {
                let (cy, la) = if woman { WOMEN[women.pick(&mut rng)] } else { MEN[men.pick(&mut rng)] };
                let (cy_last, la_last) = SURNAMES[surnames.pick(&mut rng)];
                latin_first = la;
                latin_last = if woman { format!("{la_last}a") } else { la_last.to_owned() };
                if cyrillic {
                    first.push_str(cy);
                    last.push_str(cy_last);
                    if woman {
                        last.push('а');
                    }
                } else {
                    first.push_str(la);
                    last.push_str(&latin_last);
                }
            }
            let (f, l) = (latin_first.to_lowercase(), latin_last.to_lowercase());
            // Common names share a few nicks' worth of room: a taken nick gets a number, drawn
            // from a range that widens with each try, so even the commonest pair always finds one.
            let mut style = rng.index(4);
            let mut range = 100;
            loop {
                nick.clear();
                match style {
                    0 => write!(nick, "{f}.{l}"),
                    1 => write!(nick, "{f}_{l}"),
                    2 => write!(nick, "{}{l}", &f[..1]),
                    _ => {
                        range = (range * 4).min(1_000_000_000);
                        write!(nick, "{f}.{l}{}", rng.below(range))
                    }
                }
                .unwrap_or_default();
                if nick.len() > 32 {
                    nick.truncate(22);
                    write!(nick, "{}", rng.below(range.max(10_000))).unwrap_or_default();
                }
                if nicks.insert(nick.clone()) {
                    break;
                }
                style = 3;
            }
            self.people.push(Person { created, cyrillic });
            out.row(7)?;
            out.uuid(self.user_ids.get(i));
            out.text(&first);
            out.text(&last);
            out.text(&nick);
            out.text(&self.passhash);
            out.time(created);
            out.time(last_active);
        }
        out.end()
    }

    /// Chung–Lu: each person asks about half their target number of friends, each picked in
    /// proportion to the other's target, so that everyone ends near their target. A few
    /// thousand celebrities have ~5,000; most people 10–300.
    fn friendships(&mut self, out: &mut Out) -> Result<(), Gone> {
        let n = self.sizes.people;
        let mut rng = Rng::new(self.seed, 2);
        let mut target: Vec<f64> = (0..n).map(|_| (rng.normal() * 0.85).exp()).collect();
        let celebrities = self.sizes.celebrities;
        let mut celebrity_total = 0.0;
        for _ in 0..celebrities {
            let who = rng.index(n);
            target[who] = -(self.sizes.celebrity_friends as f64 * (0.8 + 0.4 * rng.unit()));
            celebrity_total -= target[who];
        }
        let wanted = self.sizes.pairs_per_person * 2.0 * n as f64;
        let ordinary: f64 = target.iter().filter(|t| **t > 0.0).sum();
        let scale = ((wanted - celebrity_total) / ordinary).max(1.0);
        for t in &mut target {
            *t = if *t < 0.0 { -*t } else { (*t * scale).clamp(5.0, 600.0) };
        }
        target[self.anna] = 0.0;
        // Each person appears in `stubs` once per friend they are expected to be asked by.
        let mut stubs: Vec<u32> = Vec::with_capacity(wanted as usize / 2 + n);
        let mut asks: Vec<u32> = Vec::with_capacity(n);
        for (i, t) in target.iter().enumerate() {
            let asked = rng.round(t / 2.0);
            asks.push(rng.round(t / 2.0) as u32);
            stubs.extend(std::iter::repeat_n(i as u32, asked as usize));
        }
        let mut pairs: Vec<u64> = Vec::with_capacity(stubs.len() * 2 + self.sizes.anna_friends * 2);
        if !stubs.is_empty() {
            for (i, &k) in asks.iter().enumerate() {
                for _ in 0..k {
                    let j = stubs[rng.index(stubs.len())] as usize;
                    if j != i {
                        pairs.push(pack(i.min(j), i.max(j)));
                    }
                }
            }
        }
        drop(stubs);
        // Anna: ~3,000 friends (a few of her requests still pending), picked uniformly.
        let anna_asks = (self.sizes.anna_friends as f64 * 1.04) as usize;
        let mut anna_friends: HashSet<usize> = HashSet::new();
        while anna_friends.len() < anna_asks.min(n - 1) {
            let j = rng.index(n);
            if j != self.anna {
                anna_friends.insert(j);
            }
        }
        pairs.extend(anna_friends.into_iter().map(|j| pack(self.anna.min(j), self.anna.max(j))));
        pairs.sort_unstable();
        pairs.dedup();

        // Who asked whom, and whether it was accepted, follow from the pair and the seed.
        let mut degree = vec![0u32; n + 1];
        let salt = mix(self.seed ^ 0xf00d);
        let mut directed: Vec<u64> = Vec::with_capacity(pairs.len());
        for &p in &pairs {
            let (low, high) = unpack(p);
            let h = mix(p ^ salt);
            if accepted(h) {
                degree[low] += 1;
                degree[high] += 1;
            }
            directed.push(if h & 1 == 0 { p } else { pack(high, low) });
        }
        // Compressed friend lists, kept for posts, likes and chats.
        let mut start = vec![0u32; n + 1];
        for i in 0..n {
            start[i + 1] = start[i] + degree[i];
        }
        let mut fill = start.clone();
        let mut friends = vec![0u32; start[n] as usize];
        for &p in &pairs {
            if accepted(mix(p ^ salt)) {
                let (low, high) = unpack(p);
                friends[fill[low] as usize] = high as u32;
                fill[low] += 1;
                friends[fill[high] as usize] = low as u32;
                fill[high] += 1;
            }
        }
        drop(pairs);
        self.friend_start = start;
        self.friends = friends;

        directed.sort_unstable();
        out.start("friendship_requests", "requester_id, responder_id, message, accepted, viewed, created_at")?;
        for p in directed {
            let (requester, responder) = unpack(p);
            let h = mix(pack(requester.min(responder), requester.max(responder)) ^ salt);
            let yes = accepted(h);
            let since = self.people[requester].created.max(self.people[responder].created);
            let at = since + ((self.anchor - since) as f64 * ((h >> 20) & 0xffff) as f64 / 65536.0) as i64;
            out.row(6)?;
            out.uuid(self.user_ids.get(requester));
            out.uuid(self.user_ids.get(responder));
            out.text(if (h >> 8).is_multiple_of(10) {
                REQUEST_NOTES[((h >> 40) as usize) % REQUEST_NOTES.len()]
            } else {
                ""
            });
            out.flag(yes);
            // Accepting marks a request viewed; a declined one stays pending but viewed.
            out.flag(yes || (h >> 12).is_multiple_of(3));
            out.time(at);
        }
        out.end()
    }

    fn posts(&mut self, out: &mut Out) -> Result<Vec<(u32, i64)>, Gone> {
        let n = self.sizes.people;
        let mut rng = Rng::new(self.seed, 3);
        let weights: Vec<f64> =
            (0..n).map(|i| if i == self.anna || rng.chance(0.15) { 0.0 } else { (rng.normal() * 1.1).exp() }).collect();
        let total: f64 = weights.iter().sum();
        let wanted = self.sizes.posts_per_person * n as f64 - self.sizes.anna_posts as f64;
        let per_weight = if total > 0.0 { wanted.max(0.0) / total } else { 0.0 };
        let counts: Vec<usize> = (0..n)
            .map(|i| {
                if i == self.anna {
                    self.sizes.anna_posts
                } else {
                    (rng.round(weights[i] * per_weight) as usize).min(5_000)
                }
            })
            .collect();
        let total: usize = counts.iter().sum();
        let ids = Ids::new(self.seed, 103, total);
        // (owner, created) of every post, for its comments and likes.
        let mut posts: Vec<(u32, i64)> = Vec::with_capacity(total);
        out.start("posts", "id, author_id, owner_id, message, created_at")?;
        let mut text = String::new();
        for (owner, &count) in counts.iter().enumerate() {
            self.wall_versions[owner] += count as u32;
            let friends = self.friends_of(owner);
            let since = self.people[owner].created;
            for _ in 0..count {
                let author = if !friends.is_empty() && rng.chance(0.15) {
                    friends[rng.index(friends.len())] as usize
                } else {
                    owner
                };
                let at = rng.between(since, self.anchor);
                sentence(&mut rng, self.people[author].cyrillic, 3, 40, &mut text);
                out.row(5)?;
                out.uuid(ids.get(posts.len()));
                out.uuid(self.user_ids.get(author));
                out.uuid(self.user_ids.get(owner));
                out.text(&text);
                out.time(at);
                posts.push((owner as u32, at));
            }
        }
        out.end()?;
        Ok(posts)
    }

    /// `count` different people, most of them friends of `owner`, in id order.
    fn likers(&self, rng: &mut Rng, owner: usize, count: usize, into: &mut Vec<u32>) {
        into.clear();
        let friends = self.friends_of(owner);
        let n = self.sizes.people;
        let count = count.min(n);
        let mut tries = 0;
        while into.len() < count && tries < 4 {
            let missing = count - into.len();
            for _ in 0..missing + missing / 8 + 1 {
                let person = if !friends.is_empty() && rng.chance(0.6) {
                    friends[rng.index(friends.len())]
                } else {
                    rng.index(n) as u32
                };
                into.push(person);
            }
            into.sort_unstable();
            into.dedup();
            tries += 1;
        }
        if into.len() > count {
            // Keep a random `count` of them (a partial shuffle), back in id order.
            for k in 0..count {
                let j = k + rng.index(into.len() - k);
                into.swap(k, j);
            }
            into.truncate(count);
            into.sort_unstable();
        }
    }

    /// Comments, post likes and comment likes. A post's attention is heavy tailed (Lomax): most
    /// posts get none, a few get tens of thousands of likes.
    fn comments_and_likes(&mut self, out: &mut Out, posts: &[(u32, i64)]) -> Result<(), Gone> {
        let mut rng = Rng::new(self.seed, 4);
        let heat: Vec<f32> = (0..posts.len()).map(|_| rng.heat(1.4) as f32).collect();
        let post_ids = Ids::new(self.seed, 103, posts.len());
        let comment_counts: Vec<u32> = heat.iter().map(|h| rng.round(f64::from(*h) * 0.3) as u32).collect();
        let total_comments: usize = comment_counts.iter().map(|c| *c as usize).sum();
        let comment_ids = Ids::new(self.seed, 104, total_comments);
        let mut comments: Vec<(u32, i64)> = Vec::with_capacity(total_comments);
        out.start("comments", "id, post_id, author_id, message, created_at")?;
        let mut text = String::new();
        let mut times: Vec<i64> = Vec::new();
        for (p, &(owner, created)) in posts.iter().enumerate() {
            let count = comment_counts[p] as usize;
            if count == 0 {
                continue;
            }
            times.clear();
            times.extend((0..count).map(|_| rng.between(created, self.anchor)));
            times.sort_unstable();
            self.wall_versions[owner as usize] += count as u32;
            let friends = self.friends_of(owner as usize);
            for &at in &times {
                let author = if !friends.is_empty() && rng.chance(0.7) {
                    friends[rng.index(friends.len())] as usize
                } else if rng.chance(0.5) {
                    owner as usize
                } else {
                    rng.index(self.sizes.people)
                };
                sentence(&mut rng, self.people[author].cyrillic, 1, 20, &mut text);
                out.row(5)?;
                out.uuid(comment_ids.get(comments.len()));
                out.uuid(post_ids.get(p));
                out.uuid(self.user_ids.get(author));
                out.text(&text);
                out.time(at);
                comments.push((owner, at));
            }
        }
        out.end()?;

        // Likes concentrated where posts are hot; a comment shares the heat of a post.
        self.likes(out, &mut rng, "post_likes", "post_id", posts, &post_ids, |rng, p| {
            rng.round(f64::from(heat[p]) * 1.0).min(100_000) as usize
        })?;
        self.likes(out, &mut rng, "comment_likes", "comment_id", &comments, &comment_ids, |rng, c| {
            rng.round(f64::from(heat[c % heat.len().max(1)]) * 0.3).min(10_000) as usize
        })
    }

    /// The likes of `targets` (each its wall's owner and its time) into `table`, keyed by `key`:
    /// `count(rng, target)` people each, mostly the owner's friends, at times after the target's.
    #[allow(clippy::too_many_arguments)]
    fn likes(
        &mut self,
        out: &mut Out,
        rng: &mut Rng,
        table: &'static str,
        key: &str,
        targets: &[(u32, i64)],
        ids: &Ids,
        count: impl Fn(&mut Rng, usize) -> usize,
    ) -> Result<(), Gone> {
        let (mut likers, mut times) = (Vec::new(), Vec::new());
        let mut seq = 0i64;
        out.start(table, &format!("{key}, user_id, seq, liked_at"))?;
        for (target, &(owner, created)) in targets.iter().enumerate() {
            let count = count(rng, target);
            if count == 0 {
                continue;
            }
            self.likers(rng, owner as usize, count, &mut likers);
            self.wall_versions[owner as usize] += likers.len() as u32;
            times.clear();
            times.extend((0..likers.len()).map(|_| rng.between(created, self.anchor)));
            times.sort_unstable();
            for (user, &at) in likers.iter().zip(&times) {
                seq += 1;
                out.row(4)?;
                out.uuid(ids.get(target));
                out.uuid(self.user_ids.get(*user as usize));
                out.int(seq);
                out.time(at);
            }
        }
        out.end()
    }
}

fn pack(a: usize, b: usize) -> u64 {
    ((a as u64) << 32) | b as u64
}

fn unpack(p: u64) -> (usize, usize) {
    ((p >> 32) as usize, (p & 0xffff_ffff) as usize)
}

/// 96% of requests were accepted; the rest are pending.
fn accepted(h: u64) -> bool {
    (h >> 32) % 100 >= 4
}

impl Generator {
    /// Private chats between friends, groups, and a handful of very long chats (Anna's private
    /// chat with her first friend among them); their messages follow in chat order, so every
    /// chat's `seq`s are consecutive and rise with time, as the server's writes leave them.
    fn chats(&mut self, out: &mut Out) -> Result<(), Gone> {
        let n = self.sizes.people;
        let mut rng = Rng::new(self.seed, 5);
        let mut plan: Vec<Chat> = Vec::new();
        let mut members: Vec<u32> = Vec::new();
        let anna = self.anna;
        let anna_friends: Vec<u32> = self.friends_of(anna).to_vec();
        let big = self.sizes.big_chat_messages;
        let since = |people: &[Person], who: &[u32]| who.iter().map(|&p| people[p as usize].created).max().unwrap_or(0);

        let add = |plan: &mut Vec<Chat>,
                   members: &mut Vec<u32>,
                   group: bool,
                   who: &mut Vec<u32>,
                   messages: usize,
                   rng: &mut Rng| {
            who.sort_unstable();
            who.dedup();
            let start = members.len();
            members.extend_from_slice(who);
            plan.push(Chat {
                group,
                title_index: rng.index(GROUP_TITLES.len()),
                created: 0,
                last: 0,
                messages,
                first_message: 0,
                members: start..members.len(),
            });
        };
        let mut who: Vec<u32> = Vec::new();
        // The long chats first: Anna's, then big groups around well-connected people.
        let mut big_pair = None;
        if let Some(&friend) = anna_friends.first() {
            who.clear();
            who.extend([anna as u32, friend]);
            big_pair = Some(pack(anna.min(friend as usize), anna.max(friend as usize)));
            add(&mut plan, &mut members, false, &mut who, big, &mut rng);
        }
        while plan.len() < self.sizes.big_chats {
            let founder = rng.index(n);
            who.clear();
            who.push(founder as u32);
            let friends = self.friends_of(founder);
            for _ in 0..60 {
                who.push(if friends.is_empty() || rng.chance(0.3) {
                    rng.index(n) as u32
                } else {
                    friends[rng.index(friends.len())]
                });
            }
            add(&mut plan, &mut members, true, &mut who, big, &mut rng);
        }
        let long = plan.len();
        // Anna's groups: a twenty-fifth of her chats.
        let anna_groups = self.sizes.anna_chats / 25;
        for _ in 0..anna_groups {
            who.clear();
            who.push(anna as u32);
            if !anna_friends.is_empty() {
                for _ in 0..2 + rng.index(28) {
                    who.push(anna_friends[rng.index(anna_friends.len())]);
                }
            }
            add(&mut plan, &mut members, true, &mut who, 0, &mut rng);
        }
        // Private chats: about one and a half per person, between friends.
        let pairs = self.friends.len() / 2;
        let p = if pairs == 0 { 0.0 } else { (1.5 * n as f64 / pairs as f64).min(1.0) };
        let anna_private = self.sizes.anna_chats.saturating_sub(anna_groups + 1);
        let p_anna =
            if anna_friends.is_empty() { 0.0 } else { (anna_private as f64 / anna_friends.len() as f64).min(1.0) };
        for i in 0..n {
            for j in self.friend_start[i] as usize..self.friend_start[i + 1] as usize {
                let friend = self.friends[j] as usize;
                if friend <= i || big_pair == Some(pack(i, friend)) {
                    continue;
                }
                let chance = if i == anna || friend == anna { p_anna } else { p };
                if rng.chance(chance) {
                    who.clear();
                    who.extend([i as u32, friend as u32]);
                    add(&mut plan, &mut members, false, &mut who, 0, &mut rng);
                }
            }
        }
        // Groups: one for every forty people, of a founder and some of their friends.
        for _ in 0..n / 40 {
            let founder = rng.index(n);
            let friends = self.friends_of(founder);
            if friends.len() < 2 {
                continue;
            }
            who.clear();
            who.push(founder as u32);
            let size = (2.0 + rng.heat(1.6) * 6.0).min(200.0) as usize;
            for _ in 0..size {
                who.push(friends[rng.index(friends.len())]);
            }
            add(&mut plan, &mut members, true, &mut who, 0, &mut rng);
        }

        // Messages: the long chats have theirs; the rest share the remaining budget, heavy tailed,
        // at least one each (a private chat exists because somebody wrote in it).
        let budget = (self.sizes.messages_per_person * n as f64) as usize;
        let rest = budget.saturating_sub(long * big).max(plan.len() - long);
        let weights: Vec<f64> = plan[long..].iter().map(|_| (rng.normal() * 1.2).exp()).collect();
        let total_weight: f64 = weights.iter().sum();
        let extra = (rest - (plan.len() - long)) as f64;
        let mut first_message = 0;
        for (c, chat) in plan.iter_mut().enumerate() {
            if c >= long {
                chat.messages = 1 + rng.round(weights[c - long] * extra / total_weight.max(1e-9)) as usize;
            }
            chat.first_message = first_message;
            first_message += chat.messages;
            let who = &members[chat.members.clone()];
            let since = since(&self.people, who);
            // Enough time for a tenth of a second between messages.
            let needed = chat.messages as i64 * 100_000 + 1_000_000;
            let mut created =
                if c < long { since.max(self.anchor - 2 * YEAR) } else { rng.between(since, self.anchor - HOUR) };
            created = created.min(self.anchor - needed - HOUR);
            chat.created = created;
            chat.last =
                if c < long { self.anchor - rng.between(0, HOUR) } else { rng.between(created + needed, self.anchor) };
        }
        let total_messages = first_message;
        let chat_ids = Ids::new(self.seed, 105, plan.len());
        let message_ids = Ids::new(self.seed, 106, total_messages);

        out.start("chats", "id, kind, title, created_at, last_message_at, last_message_id")?;
        for (c, chat) in plan.iter().enumerate() {
            out.row(6)?;
            out.uuid(chat_ids.get(c));
            out.text(if chat.group { "group" } else { "private" });
            if chat.group {
                out.text(GROUP_TITLES[chat.title_index]);
            } else {
                out.null();
            }
            out.time(chat.created);
            out.time(chat.last);
            out.uuid(message_ids.get(chat.first_message + chat.messages - 1));
        }
        out.end()?;

        // Most members have read everything; some are behind, a few never opened the chat.
        out.start("chat_members", "chat_id, user_id, joined_at, last_read_seq")?;
        for (c, chat) in plan.iter().enumerate() {
            let first_seq = chat.first_message as i64 + 1;
            let last_seq = first_seq + chat.messages as i64 - 1;
            for &user in &members[chat.members.clone()] {
                let read = match rng.unit() {
                    u if u < 0.75 => last_seq,
                    u if u < 0.95 => rng.between(first_seq, last_seq + 1),
                    _ => 0,
                };
                out.row(4)?;
                out.uuid(chat_ids.get(c));
                out.uuid(self.user_ids.get(user as usize));
                out.time(chat.created);
                out.int(read);
            }
        }
        out.end()?;

        out.start("private_chats", "chat_id, user_low, user_high")?;
        for (c, chat) in plan.iter().enumerate() {
            if let (false, [low, high]) = (chat.group, &members[chat.members.clone()]) {
                // Ids grow with the person's index, so the lower index has the lower id.
                out.row(3)?;
                out.uuid(chat_ids.get(c));
                out.uuid(self.user_ids.get(*low as usize));
                out.uuid(self.user_ids.get(*high as usize));
            }
        }
        out.end()?;

        out.start("messages", "id, chat_id, author_id, text, reply_to, created_at, seq")?;
        let mut text = String::new();
        for (c, chat) in plan.iter().enumerate() {
            let who = &members[chat.members.clone()];
            let count = chat.messages;
            let span = chat.last - chat.created;
            let step = if count > 1 { span / (count as i64 - 1) } else { 0 };
            let mut author = who[0] as usize;
            for k in 0..count {
                let at = if k + 1 == count {
                    chat.last
                } else if k == 0 {
                    chat.created
                } else {
                    chat.created + k as i64 * step + rng.between(0, step / 2)
                };
                if who.len() == 2 {
                    if rng.chance(0.5) {
                        author = who[rng.index(2)] as usize;
                    }
                } else {
                    // A few members do most of the talking.
                    let u = rng.unit();
                    author = who[((u * u) * who.len() as f64) as usize % who.len()] as usize;
                }
                let reply_to = (k > 0 && rng.chance(0.03))
                    .then(|| message_ids.get(chat.first_message + k - 1 - rng.index(k.min(20))));
                sentence(&mut rng, self.people[author].cyrillic, 1, 15, &mut text);
                out.row(7)?;
                out.uuid(message_ids.get(chat.first_message + k));
                out.uuid(chat_ids.get(c));
                out.uuid(self.user_ids.get(author));
                out.text(&text);
                out.opt_uuid(reply_to);
                out.time(at);
                out.int((chat.first_message + k) as i64 + 1);
            }
        }
        out.end()
    }

    fn walls(&self, out: &mut Out) -> Result<(), Gone> {
        out.start("wall_versions", "owner_id, version")?;
        for (owner, &version) in self.wall_versions.iter().enumerate() {
            if version > 0 {
                out.row(2)?;
                out.uuid(self.user_ids.get(owner));
                out.int(i64::from(version));
            }
        }
        out.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Loading.

/// Every table the data set fills; they are empty before, and truncated together in the load's
/// transaction (that is what lets `COPY FREEZE` work).
const TABLES: &[&str] = &[
    "users",
    "user_sessions",
    "login_failures",
    "friendship_requests",
    "posts",
    "post_likes",
    "comments",
    "comment_likes",
    "chats",
    "chat_members",
    "private_chats",
    "messages",
    "wall_versions",
    "user_search",
    "user_search_pairs",
    "user_search_words",
];

/// Tables whose identity `seq` the data set fills: the sequence continues after the rows.
const SEQUENCED: &[&str] = &["post_likes", "comment_likes", "messages"];

/// What the load did, for the caller.
#[derive(Debug)]
pub struct Loaded {
    pub anna: Uuid,
    pub rows: Vec<(&'static str, u64)>,
}

/// Loads `people` people and all that goes with them into an empty, migrated database.
pub async fn load(database_url: &str, people: usize, seed: u64) -> anyhow::Result<Loaded> {
    anyhow::ensure!((100..=50_000_000).contains(&people), "--people must be between 100 and 50,000,000");
    let started = Instant::now();
    let (client, connection) =
        tokio_postgres::connect(database_url, NoTls).await.context("cannot reach the database")?;
    let connection = tokio::spawn(connection);
    let outcome = load_with(&client, people, seed, started).await;
    drop(client);
    // The connection ends with its client; its own error, if any, is already in `outcome`.
    let _ = connection.await;
    outcome
}

/// People search's tables (migrations `user_search` and `user_search_pairs`), which triggers
/// keep as the server writes: filled here from the loaded people, each in key order, then its
/// other indexes built.
async fn derive_user_search(
    client: &Client,
    deferred: &mut HashMap<String, Vec<(String, String)>>,
) -> anyhow::Result<Vec<(&'static str, u64)>> {
    const DERIVED: [(&str, &str); 3] = [
        (
            "user_search",
            "INSERT INTO user_search (user_id, created_at, search_key) \
             SELECT id, created_at, user_search_key(first_name, last_name, nick) FROM users ORDER BY id",
        ),
        (
            "user_search_pairs",
            "INSERT INTO user_search_pairs (user_id, pair, created_at, search_key) \
             SELECT s.user_id, p.pair, s.created_at, s.search_key \
             FROM user_search s, user_search_key_pairs(s.search_key) AS p (pair) ORDER BY 1",
        ),
        (
            "user_search_words",
            "INSERT INTO user_search_words (word) SELECT DISTINCT split_part(pair, ' ', 1) FROM user_search_pairs",
        ),
    ];
    let mut filled = Vec::new();
    for (table, fill) in DERIVED {
        let began = Instant::now();
        let rows = client.execute(fill, &[]).await.with_context(|| format!("filling {table}"))?;
        let seconds = began.elapsed().as_secs_f64();
        println!("{table:<20} {rows:>11} rows {seconds:>8.1} s {:>10.0} rows/s", rows as f64 / seconds.max(1e-6));
        rebuild_indexes(client, &deferred.remove(table).unwrap_or_default()).await?;
        filled.push((table, rows));
    }
    Ok(filled)
}

/// Builds a loaded table's deferred indexes (name, definition) and says how long they took.
async fn rebuild_indexes(client: &Client, indexes: &[(String, String)]) -> anyhow::Result<()> {
    let began = Instant::now();
    for (_, definition) in indexes {
        client.batch_execute(definition).await.with_context(|| definition.clone())?;
    }
    let names: Vec<&str> = indexes.iter().map(|(name, _)| name.as_str()).collect();
    println!("{:<20} {:>11} built {:>8.1} s   ({})", "", "indexes", began.elapsed().as_secs_f64(), names.join(", "));
    Ok(())
}

/// The `COPY` under way.
type Copying = std::pin::Pin<Box<tokio_postgres::CopyInSink<Bytes>>>;

async fn load_with(client: &Client, people: usize, seed: u64, started: Instant) -> anyhow::Result<Loaded> {
    client
        .batch_execute(
            "BEGIN; \
             SET LOCAL session_replication_role = replica; \
             SET LOCAL maintenance_work_mem = '1GB'",
        )
        .await
        .context("cannot skip triggers and foreign-key checks for the load (does the role have the privilege?)")?;
    client
        .batch_execute("LOCK TABLE users, chats, wall_versions IN ACCESS EXCLUSIVE MODE")
        .await
        .context("the database has no Nosebook tables: run `nosebook migrate` first")?;
    let busy: bool = client
        .query_one(
            "SELECT EXISTS (SELECT FROM users) OR EXISTS (SELECT FROM chats) OR EXISTS (SELECT FROM wall_versions)",
            &[],
        )
        .await?
        .get(0);
    if busy {
        return Err(super::SeedError::NotEmpty.into());
    }
    client.batch_execute(&format!("TRUNCATE {}", TABLES.join(", "))).await?;

    // Indexes no constraint owns are built after their table's load, from their own definition.
    let tables: Vec<String> = TABLES.iter().map(|t| (*t).to_owned()).collect();
    let rows = client
        .query(
            "SELECT c.relname::text, t.relname::text, pg_get_indexdef(c.oid) \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
             WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1) \
               AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')) \
             ORDER BY c.relname",
            &[&tables],
        )
        .await?;
    let mut deferred: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for row in rows {
        let (name, table, definition): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        client.batch_execute(&format!("DROP INDEX public.\"{name}\"")).await?;
        deferred.entry(table).or_default().push((name, definition));
    }

    let passhash = nosebook_core::passwords::hash_with_salt(PASSWORD, &mix(seed).to_be_bytes())?;
    let anna = people / 3;
    let user_ids = Ids::new(seed, 101, people);
    let generator = Generator {
        seed,
        sizes: Sizes::new(people),
        anchor: anchor_micros(),
        passhash,
        anna,
        people: Vec::with_capacity(people),
        user_ids,
        friend_start: Vec::new(),
        friends: Vec::new(),
        wall_versions: vec![0; people],
    };
    println!("generating {people} people (seed {seed})");
    let (tx, mut rx) = mpsc::channel::<Piece>(256);
    let thread = std::thread::spawn(move || generator.run(tx));

    let mut loaded = Vec::new();
    let mut current: Option<(&'static str, Instant, Copying)> = None;
    while let Some(piece) = rx.recv().await {
        match piece {
            Piece::Start { table, copy } => {
                let sink = client.copy_in(&copy).await.with_context(|| format!("COPY {table}"))?;
                current = Some((table, Instant::now(), Box::pin(sink)));
            }
            Piece::Data(chunk) => {
                let (table, _, sink) = current.as_mut().context("rows outside a table")?;
                sink.send(chunk).await.with_context(|| format!("COPY {table}"))?;
            }
            Piece::End { rows } => {
                let (table, began, mut sink) = current.take().context("the end of no table")?;
                let written = sink.as_mut().finish().await.with_context(|| format!("COPY {table}"))?;
                anyhow::ensure!(written == rows, "{table}: {written} rows written of {rows}");
                let seconds = began.elapsed().as_secs_f64();
                println!(
                    "{table:<20} {rows:>11} rows {seconds:>8.1} s {:>10.0} rows/s",
                    rows as f64 / seconds.max(1e-6)
                );
                if SEQUENCED.contains(&table) && rows > 0 {
                    let sql = format!("SELECT setval(pg_get_serial_sequence('public.{table}', 'seq'), {rows})");
                    client.batch_execute(&sql).await?;
                }
                if let Some(indexes) = deferred.remove(table) {
                    rebuild_indexes(client, &indexes).await?;
                }
                loaded.push((table, rows));
                if table == "users" {
                    loaded.extend(derive_user_search(client, &mut deferred).await?);
                }
            }
        }
    }
    match thread.join() {
        Ok(Ok(())) => {}
        Ok(Err(Gone)) => anyhow::bail!("the generator stopped early"),
        Err(_) => anyhow::bail!("the generator panicked"),
    }
    // Tables the data set leaves empty get their indexes back too.
    for (_, indexes) in deferred.drain() {
        for (_, definition) in indexes {
            client.batch_execute(&definition).await.with_context(|| definition.clone())?;
        }
    }
    // The counts that triggers keep as the server writes (migration `counts`): computed once
    // from the rows.
    let began = Instant::now();
    client.batch_execute("CALL recount()").await?;
    println!("{:<20} {:>11} {:>13.1} s", "counts (recount)", "", began.elapsed().as_secs_f64());
    client.batch_execute("COMMIT").await?;
    let began = Instant::now();
    client.batch_execute("VACUUM (ANALYZE)").await?;
    println!("{:<20} {:>11} {:>13.1} s", "vacuum (analyze)", "", began.elapsed().as_secs_f64());
    println!(
        "{:<20} {:>11} rows {:>8.1} s",
        "total",
        loaded.iter().map(|(_, r)| r).sum::<u64>(),
        started.elapsed().as_secs_f64()
    );
    Ok(Loaded { anna: Uuid::from_u128(user_ids.get(anna)), rows: loaded })
}
