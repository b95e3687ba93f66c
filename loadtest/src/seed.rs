//! Preparing a run: users, sessions, walls, friendships and group chats written in bulk with SQL
//! (registering 20,000 people through the API would spend minutes hashing passwords). Their
//! nicks start with `lt_<run>_`, so runs never collide, and the id of the i-th is
//! `md5('<run>:<i>')::uuid`, so that pgbench can compute it (`scripts/bench reads --statements`). Or a run
//! draws its people from those already in the database and writes only their sessions
//! ([`Seeder::existing_accounts`]).

use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Integer, Text, Uuid as SqlUuid};
use diesel_async::pooled_connection::PoolableConnection;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// How long a statement is tried again, each time on a new connection, after the server closed
/// the connection it was on (a restart of PostgreSQL takes a few seconds), before the run gives
/// up with the error.
const RECONNECT_FOR: Duration = Duration::from_secs(30);
/// Longest wait for one connection attempt: a server that accepts but never answers is retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `$statement` (which uses the connection `$conn`) on the [`Db`] `$db`, again on a new
/// connection when the server closed the one it ran on, for up to [`RECONNECT_FOR`]. Only
/// statements that may safely run twice belong here: a lost connection does not say whether the
/// statement committed.
macro_rules! retried {
    ($db:expr, $what:expr, |$conn:ident| $statement:expr) => {{
        let mut deadline: Option<Instant> = None;
        loop {
            let $conn = $db.connection(&mut deadline).await?;
            match $statement.await {
                Ok(value) => break value,
                Err(error) => $db.lost(error, $what, &mut deadline)?,
            }
        }
    }};
}

/// The load tool's connection to the database: opened again whenever the server closed it, so
/// that a run across a restart of PostgreSQL still ends with its report.
struct Db {
    url: String,
    conn: Option<AsyncPgConnection>,
}

impl Db {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        let mut db = Self { url: url.to_owned(), conn: None };
        db.connection(&mut None).await?;
        Ok(db)
    }

    /// The open connection, or a new one when there is none or the server closed it; connecting
    /// is tried again until `deadline` (set now when unset) while the server is unreachable or
    /// starting.
    async fn connection(&mut self, deadline: &mut Option<Instant>) -> anyhow::Result<&mut AsyncPgConnection> {
        if self.conn.as_mut().is_some_and(|conn| conn.is_broken()) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let until = *deadline.get_or_insert_with(|| Instant::now() + RECONNECT_FOR);
            let mut said = false;
            let conn = loop {
                let error = match tokio::time::timeout(CONNECT_TIMEOUT, AsyncPgConnection::establish(&self.url)).await {
                    Ok(Ok(conn)) => break conn,
                    Ok(Err(e)) if !unreachable_for_now(&e) => {
                        anyhow::bail!("cannot connect to the database ({}): {e}", self.url)
                    }
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
                };
                if Instant::now() >= until {
                    anyhow::bail!(
                        "cannot reach the database ({}) for {} s: {error}",
                        self.url,
                        RECONNECT_FOR.as_secs()
                    );
                }
                if !said {
                    eprintln!("nosebook-loadtest: the database is unreachable ({error}); trying again");
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            };
            self.conn = Some(conn);
        }
        match self.conn.as_mut() {
            Some(conn) => Ok(conn),
            None => unreachable!("a connection was just opened"),
        }
    }

    /// After `error` from a statement: `Ok` when the connection is gone and there is time left
    /// (the connection is dropped; the statement runs again on a new one), the error otherwise.
    fn lost(&mut self, error: DieselError, what: &str, deadline: &mut Option<Instant>) -> anyhow::Result<()> {
        let gone = self.conn.as_mut().is_none_or(|conn| conn.is_broken()) || connection_gone(&error);
        if !gone {
            return Err(anyhow::anyhow!("{what}: {error}"));
        }
        self.conn = None;
        let until = *deadline.get_or_insert_with(|| Instant::now() + RECONNECT_FOR);
        if Instant::now() >= until {
            anyhow::bail!(
                "{what}: the database kept closing the connection for {} s: {error}",
                RECONNECT_FOR.as_secs()
            );
        }
        eprintln!("nosebook-loadtest: {what}: the database closed the connection ({error}); connecting again");
        Ok(())
    }
}

/// Errors of a statement that mean the connection is gone rather than the statement refused.
fn connection_gone(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | DieselError::BrokenTransactionManager => {
            true
        }
        DieselError::DatabaseError(_, info) => unavailable(info.message()),
        _ => false,
    }
}

/// Connection errors worth waiting out (see [`unavailable`]); wrong credentials, an unknown
/// database or a malformed URL fail at once.
fn unreachable_for_now(error: &ConnectionError) -> bool {
    matches!(error, ConnectionError::CouldntSetupConfiguration(DieselError::DatabaseError(_, info))
        if unavailable(info.message()))
}

/// What PostgreSQL and its client say while the server is away: nothing listening, the socket
/// cut, the server starting or shutting down (57P03, "the database system is …"), or ending the
/// session (57P01–57P05, "terminating connection due to …").
fn unavailable(message: &str) -> bool {
    [
        "error connecting to server",
        "error communicating with the server",
        "connection closed",
        "the database system is",
        "terminating connection",
    ]
    .iter()
    .any(|prefix| message.starts_with(prefix))
}

#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Account {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub session: Uuid,
}

impl Account {
    pub fn session(&self) -> String {
        self.session.to_string()
    }

    /// The browser's session cookie (`nosebook_session=<sessionId>:<userId>`).
    pub fn cookie(&self) -> String {
        format!("nosebook_session={}:{}", self.session, self.id)
    }
}

pub struct Seeder {
    db: Db,
    run: String,
    /// People made so far.
    made: usize,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many messages of a load run carry the text `lt <i>`.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Stored {
    #[diesel(sql_type = BigInt)]
    pub i: i64,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

impl Seeder {
    pub async fn connect(database_url: &str) -> anyhow::Result<Self> {
        let db = Db::connect(database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the database to prepare users: {e:#}"))?;
        let run = Uuid::new_v4().simple().to_string()[..8].to_owned();
        Ok(Self { db, run, made: 0 })
    }

    /// This run's id, in nicks and user ids.
    pub fn run_id(&self) -> &str {
        &self.run
    }

    /// `n` more people, each with a session valid for two days (the i-th of the run is number
    /// i however many calls it took).
    pub async fn accounts(&mut self, n: usize) -> anyhow::Result<Vec<Account>> {
        let first = i32::try_from(self.made)?;
        let n = i32::try_from(n)?;
        // One statement, all or nothing; when it runs again after a lost connection, the people
        // it made already (and so their sessions) are skipped.
        retried!(self.db, "preparing people", |conn| diesel::sql_query(
            "WITH made AS (
               INSERT INTO users (id, first_name, last_name, nick, passhash, created_at, last_activity_at)
               SELECT md5($1 || ':' || i)::uuid, 'Load', 'Tester ' || i, 'lt_' || $1 || '_' || i, '!', now(), now()
               FROM generate_series($2 + 1, $2 + $3) AS i
               ON CONFLICT DO NOTHING
               RETURNING id)
             INSERT INTO user_sessions (session_id, user_id, created_at, expires_at)
             SELECT gen_random_uuid(), id, now(), now() + interval '2 days' FROM made",
        )
        .bind::<Text, _>(&self.run)
        .bind::<Integer, _>(first)
        .bind::<Integer, _>(n)
        .execute(conn));
        let accounts = retried!(self.db, "reading the people prepared", |conn| diesel::sql_query(
            "SELECT s.user_id AS id, s.session_id AS session
             FROM generate_series($2 + 1, $2 + $3) AS i
             JOIN user_sessions s ON s.user_id = md5($1 || ':' || i)::uuid
             ORDER BY i",
        )
        .bind::<Text, _>(&self.run)
        .bind::<Integer, _>(first)
        .bind::<Integer, _>(n)
        .load::<Account>(conn));
        self.made += accounts.len();
        Ok(accounts)
    }

    /// `n` people drawn from those already in the database (a data set of `nosebook seed scale`,
    /// say), each given a new session valid for two days and nothing else: their walls, friends
    /// and chats are what the reads meet. The draw is uniform over the whole users table and
    /// fixed by the run id (the people whose id hashes lowest with it as the seed), at the cost of
    /// one scan of the primary key. Nothing is written unless there are `n` people to draw.
    pub async fn existing_accounts(&mut self, n: usize) -> anyhow::Result<Vec<Account>> {
        let wanted = i64::try_from(n)?;
        let seed = i64::from(u32::from_str_radix(&self.run, 16)?);
        // One statement; when it runs again after a lost connection, the same people get a
        // second session each, and those of the first try expire unused.
        let accounts = retried!(self.db, "drawing people from the database", |conn| diesel::sql_query(
            "WITH drawn AS (
               SELECT id, uuid_hash_extended(id, $1) AS rank FROM users ORDER BY rank, id LIMIT $2),
             opened AS (
               INSERT INTO user_sessions (session_id, user_id, created_at, expires_at)
               SELECT gen_random_uuid(), id, now(), now() + interval '2 days' FROM drawn
               WHERE (SELECT count(*) FROM drawn) = $2
               RETURNING user_id, session_id)
             SELECT o.user_id AS id, o.session_id AS session
             FROM opened o JOIN drawn d ON d.id = o.user_id ORDER BY d.rank, d.id",
        )
        .bind::<BigInt, _>(seed)
        .bind::<BigInt, _>(wanted)
        .load::<Account>(conn));
        if accounts.len() < n {
            let people =
                retried!(self.db, "counting the people", |conn| diesel::sql_query("SELECT count(*) AS n FROM users")
                    .get_result::<Count>(conn));
            anyhow::bail!(
                "--existing-people: the database has {} people, fewer than the {n} asked for \
                 (load a data set first, e.g. `nosebook seed scale --people 100000`, or ask for fewer with --users)",
                people.n
            );
        }
        Ok(accounts)
    }

    /// For each of `readers`, one of their friends (the first by id) with a new session: the
    /// reader's index and the friend. Readers without a friend are left out.
    pub async fn a_friend_of_each(&mut self, readers: &[Account]) -> anyhow::Result<Vec<(usize, Account)>> {
        #[derive(QueryableByName)]
        struct Picked {
            #[diesel(sql_type = BigInt)]
            reader: i64,
            #[diesel(sql_type = SqlUuid)]
            id: Uuid,
            #[diesel(sql_type = SqlUuid)]
            session: Uuid,
        }
        let ids: Vec<Uuid> = readers.iter().map(|a| a.id).collect();
        let picked = retried!(self.db, "picking a friend of each reader", |conn| {
            diesel::sql_query(
            "WITH r AS (SELECT id, n - 1 AS n FROM unnest($1::uuid[]) WITH ORDINALITY AS r(id, n)),
             picked AS (
               SELECT r.n, coalesce(
                 (SELECT responder_id FROM friendship_requests WHERE requester_id = r.id AND accepted ORDER BY responder_id LIMIT 1),
                 (SELECT requester_id FROM friendship_requests WHERE responder_id = r.id AND accepted ORDER BY requester_id LIMIT 1)) AS friend
               FROM r),
             opened AS (
               INSERT INTO user_sessions (session_id, user_id, created_at, expires_at)
               SELECT gen_random_uuid(), friend, now(), now() + interval '2 days'
               FROM (SELECT DISTINCT friend FROM picked WHERE friend IS NOT NULL) f
               RETURNING user_id, session_id)
             SELECT p.n AS reader, o.user_id AS id, o.session_id AS session
             FROM picked p JOIN opened o ON o.user_id = p.friend ORDER BY p.n",
        )
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
        .load::<Picked>(conn)
        });
        Ok(picked
            .into_iter()
            .filter_map(|p| Some((usize::try_from(p.reader).ok()?, Account { id: p.id, session: p.session })))
            .collect())
    }

    /// Feeds asked to be kept and not built yet (`GET /feed` asks; the server builds them).
    pub async fn feeds_being_built(&mut self) -> anyhow::Result<i64> {
        let count = retried!(self.db, "counting the feeds being built", |conn| diesel::sql_query(
            "SELECT count(*) AS n FROM feeds WHERE NOT ready"
        )
        .get_result::<Count>(conn));
        Ok(count.n)
    }

    /// A group chat of `members` (the first is its creator).
    pub async fn group(&mut self, members: &[Uuid]) -> anyhow::Result<Uuid> {
        let chat = Uuid::new_v4();
        retried!(self.db, "preparing a group chat", |conn| make_group(conn, chat, &self.run, members, 0));
        Ok(chat)
    }

    /// Group chats of `size` consecutive accounts, each with `messages` messages from its members
    /// in turn; the chat of account `i` is `chats[i / size]`.
    pub async fn conversations(
        &mut self,
        accounts: &[Account],
        size: usize,
        messages: i32,
    ) -> anyhow::Result<Vec<Uuid>> {
        let mut chats = Vec::new();
        for members in accounts.chunks(size.max(1)) {
            let ids: Vec<Uuid> = members.iter().map(|a| a.id).collect();
            let chat = Uuid::new_v4();
            retried!(self.db, "preparing a conversation", |conn| make_group(conn, chat, &self.run, &ids, messages));
            chats.push(chat);
        }
        Ok(chats)
    }

    /// Something to read: `posts` posts on each wall and a ring of accepted friendships.
    pub async fn walls(&mut self, accounts: &[Account], posts: i32) -> anyhow::Result<()> {
        let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
        // Each statement all or nothing, and skipping what an earlier run of it wrote: a wall
        // that has posts, a friendship that exists.
        retried!(self.db, "preparing walls", |conn| diesel::sql_query(
            "INSERT INTO posts (author_id, owner_id, message, created_at)
             SELECT o.id, o.id, 'Post number ' || n || ' of a load test', now() - n * interval '1 minute'
             FROM unnest($1::uuid[]) AS o(id), generate_series(1, $2) AS n
             WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.owner_id = o.id AND p.removed_at IS NULL)",
        )
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
        .bind::<Integer, _>(posts)
        .execute(conn));
        retried!(self.db, "preparing friendships", |conn| diesel::sql_query(
            "INSERT INTO friendship_requests (requester_id, responder_id, message, accepted, viewed, created_at)
             SELECT a, b, '', true, true, now()
             FROM (SELECT ids[i] AS a, ids[i % cardinality(ids) + 1] AS b FROM (SELECT $1::uuid[] AS ids) s,
                   generate_series(1, cardinality($1::uuid[])) AS i) pairs
             WHERE a <> b ON CONFLICT DO NOTHING",
        )
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
        .execute(conn));
        Ok(())
    }

    /// Transactions the database has finished so far (committed and rolled back), and rows it
    /// returned: with autocommit, a statement is a transaction. PostgreSQL publishes these
    /// counters up to a second late; read them after the work has settled.
    pub async fn database_work(&mut self) -> anyhow::Result<(i64, i64)> {
        #[derive(QueryableByName)]
        struct Work {
            #[diesel(sql_type = BigInt)]
            transactions: i64,
            #[diesel(sql_type = BigInt)]
            rows: i64,
        }
        let work = retried!(self.db, "reading the database's counters", |conn| {
            diesel::sql_query(
            "SELECT (xact_commit + xact_rollback)::bigint AS transactions, (tup_returned + tup_fetched)::bigint AS rows \
             FROM pg_stat_database WHERE datname = current_database()",
        )
        .get_result::<Work>(conn)
        });
        Ok((work.transactions, work.rows))
    }

    /// Messages written by this run's accounts, as the database has them: after a messaging run
    /// it must equal the sends answered 200 (none lost, none written twice).
    pub async fn messages_written(&mut self) -> anyhow::Result<i64> {
        let count = retried!(self.db, "counting the messages", |conn| diesel::sql_query(
            "SELECT count(*) AS n FROM messages m JOIN users u ON u.id = m.author_id
             WHERE u.nick LIKE 'lt\\_' || $1 || '\\_%'",
        )
        .bind::<Text, _>(&self.run)
        .get_result::<Count>(conn));
        Ok(count.n)
    }

    /// The load messages of this run (text `lt <i>`) the database has, by `i`: which sends were
    /// stored, and how many times.
    pub async fn load_messages_stored(&mut self) -> anyhow::Result<Vec<Stored>> {
        Ok(retried!(self.db, "reading the messages stored", |conn| diesel::sql_query(
            "SELECT substr(m.text, 4)::bigint AS i, count(*) AS n FROM messages m JOIN users u ON u.id = m.author_id
             WHERE u.nick LIKE 'lt\\_' || $1 || '\\_%' AND m.text ~ '^lt [0-9]+$' GROUP BY 1",
        )
        .bind::<Text, _>(&self.run)
        .load::<Stored>(conn)))
    }

    /// `VACUUM ANALYZE` of the whole database: what autovacuum would do during a long run.
    pub async fn vacuum(&mut self) -> anyhow::Result<()> {
        retried!(self.db, "VACUUM ANALYZE", |conn| diesel::sql_query("VACUUM ANALYZE").execute(conn));
        Ok(())
    }
}

/// The group chat `chat` of `members` (the first is its creator), with `messages` messages from
/// its members in turn, in one transaction; nothing when the chat exists already (an earlier try
/// committed but its answer was lost with the connection).
async fn make_group(
    conn: &mut AsyncPgConnection,
    chat: Uuid,
    run: &str,
    members: &[Uuid],
    messages: i32,
) -> diesel::QueryResult<()> {
    conn.transaction(async |conn| {
        let made = diesel::sql_query(
            "INSERT INTO chats (id, kind, title, created_at) VALUES ($1, 'group', 'Load test ' || $2, now())
             ON CONFLICT (id) DO NOTHING",
        )
        .bind::<SqlUuid, _>(chat)
        .bind::<Text, _>(run)
        .execute(conn)
        .await?;
        if made == 0 {
            return Ok(());
        }
        diesel::sql_query(
            "INSERT INTO chat_members (chat_id, user_id, joined_at) SELECT $1, unnest($2::uuid[]), now()",
        )
        .bind::<SqlUuid, _>(chat)
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(members)
        .execute(conn)
        .await?;
        if messages > 0 {
            diesel::sql_query(
                "WITH written AS (
                   INSERT INTO messages (chat_id, author_id, text, created_at)
                   SELECT $1, ($2::uuid[])[n % cardinality($2::uuid[]) + 1], 'Message ' || n || ' of a load test',
                          now() - (1000 - n) * interval '1 second'
                   FROM generate_series(1, $3) AS n
                   RETURNING id, created_at)
                 UPDATE chats SET last_message_id = w.id, last_message_at = w.created_at
                 FROM (SELECT id, created_at FROM written ORDER BY created_at DESC LIMIT 1) w WHERE chats.id = $1",
            )
            .bind::<SqlUuid, _>(chat)
            .bind::<diesel::sql_types::Array<SqlUuid>, _>(members)
            .bind::<Integer, _>(messages)
            .execute(conn)
            .await?;
        }
        Ok(())
    })
    .await
}
