//! Preparing a run: users, sessions, walls, friendships and group chats written in bulk with SQL
//! (registering 20,000 people through the API would spend minutes hashing passwords). Their
//! nicks start with `lt_<run>_`, so runs never collide, and the id of the i-th is
//! `md5('<run>:<i>')::uuid`, so that pgbench can compute it (`scripts/pgbench-read`).

use diesel::QueryableByName;
use diesel::sql_types::{Integer, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

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
    conn: AsyncPgConnection,
    run: String,
    /// People made so far.
    made: usize,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

impl Seeder {
    pub async fn connect(database_url: &str) -> anyhow::Result<Self> {
        let conn = AsyncPgConnection::establish(database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the database to prepare users ({database_url}): {e}"))?;
        let run = Uuid::new_v4().simple().to_string()[..8].to_owned();
        Ok(Self { conn, run, made: 0 })
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
        let accounts = diesel::sql_query(
            "WITH made AS (
               INSERT INTO users (id, first_name, last_name, nick, passhash, created_at, last_activity_at)
               SELECT md5($1 || ':' || i)::uuid, 'Load', 'Tester ' || i, 'lt_' || $1 || '_' || i, '!', now(), now()
               FROM generate_series($2 + 1, $2 + $3) AS i
               RETURNING id)
             INSERT INTO user_sessions (session_id, user_id, created_at, expires_at)
             SELECT gen_random_uuid(), id, now(), now() + interval '2 days' FROM made
             RETURNING user_id AS id, session_id AS session",
        )
        .bind::<Text, _>(&self.run)
        .bind::<Integer, _>(first)
        .bind::<Integer, _>(n)
        .load::<Account>(&mut self.conn)
        .await?;
        self.made += accounts.len();
        Ok(accounts)
    }

    /// A group chat of `members` (the first is its creator).
    pub async fn group(&mut self, members: &[Uuid]) -> anyhow::Result<Uuid> {
        let chat = diesel::sql_query(
            "INSERT INTO chats (kind, title, created_at) VALUES ('group', 'Load test ' || $1, now()) RETURNING id",
        )
        .bind::<Text, _>(&self.run)
        .get_result::<Id>(&mut self.conn)
        .await?
        .id;
        diesel::sql_query(
            "INSERT INTO chat_members (chat_id, user_id, joined_at) SELECT $1, unnest($2::uuid[]), now()",
        )
        .bind::<SqlUuid, _>(chat)
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(members)
        .execute(&mut self.conn)
        .await?;
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
            let chat = self.group(&ids).await?;
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
            .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
            .bind::<Integer, _>(messages)
            .execute(&mut self.conn)
            .await?;
            chats.push(chat);
        }
        Ok(chats)
    }

    /// Something to read: `posts` posts on each wall and a ring of accepted friendships.
    pub async fn walls(&mut self, accounts: &[Account], posts: i32) -> anyhow::Result<()> {
        let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
        diesel::sql_query(
            "INSERT INTO posts (author_id, owner_id, message, created_at)
             SELECT id, id, 'Post number ' || n || ' of a load test', now() - n * interval '1 minute'
             FROM unnest($1::uuid[]) AS id, generate_series(1, $2) AS n",
        )
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
        .bind::<Integer, _>(posts)
        .execute(&mut self.conn)
        .await?;
        diesel::sql_query(
            "INSERT INTO friendship_requests (requester_id, responder_id, message, accepted, viewed, created_at)
             SELECT a, b, '', true, true, now()
             FROM (SELECT ids[i] AS a, ids[i % cardinality(ids) + 1] AS b FROM (SELECT $1::uuid[] AS ids) s,
                   generate_series(1, cardinality($1::uuid[])) AS i) pairs
             WHERE a <> b ON CONFLICT DO NOTHING",
        )
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    /// Messages written by this run's accounts, as the database has them: after a messaging run
    /// it must equal the sends answered 200 (none lost, none written twice).
    /// Transactions the database has finished so far (committed and rolled back), and rows it
    /// returned: with autocommit, a statement is a transaction. PostgreSQL publishes these
    /// counters up to a second late; read them after the work has settled.
    pub async fn database_work(&mut self) -> anyhow::Result<(i64, i64)> {
        #[derive(QueryableByName)]
        struct Work {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            transactions: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            rows: i64,
        }
        let work = diesel::sql_query(
            "SELECT (xact_commit + xact_rollback)::bigint AS transactions, (tup_returned + tup_fetched)::bigint AS rows \
             FROM pg_stat_database WHERE datname = current_database()",
        )
        .get_result::<Work>(&mut self.conn)
        .await?;
        Ok((work.transactions, work.rows))
    }

    pub async fn messages_written(&mut self) -> anyhow::Result<i64> {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let count = diesel::sql_query(
            "SELECT count(*) AS n FROM messages m JOIN users u ON u.id = m.author_id
             WHERE u.nick LIKE 'lt\\_' || $1 || '\\_%'",
        )
        .bind::<Text, _>(&self.run)
        .get_result::<Count>(&mut self.conn)
        .await?;
        Ok(count.n)
    }

    /// `VACUUM ANALYZE` of the whole database: what autovacuum would do during a long run.
    pub async fn vacuum(&mut self) -> anyhow::Result<()> {
        diesel::sql_query("VACUUM ANALYZE").execute(&mut self.conn).await?;
        Ok(())
    }
}
