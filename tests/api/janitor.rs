//! The janitor: rows that grow with traffic (published events, expired sessions) are deleted;
//! the rest stays.

use std::time::Duration;

use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use nosebook::janitor::Janitor;
use nosebook_schema::DbPool;
use nosebook_schema::time::Clock;

use crate::helpers::spawn_app;

#[derive(diesel::QueryableByName)]
struct Frame {
    #[diesel(sql_type = Text)]
    frame: String,
}

#[actix_web::test]
async fn old_published_events_and_expired_sessions_are_deleted_and_nothing_else() {
    let app = spawn_app().await;
    let (alice, session) = app.register("alice").await;
    let clock = Clock::testing();
    let now = clock.now();
    let hour = chrono::Duration::hours(1);
    let mut conn = app.db().await;
    for (frame, created, published) in [
        ("old and published", now - hour, Some(now - hour)),
        ("young and published", now, Some(now - chrono::Duration::seconds(10))),
        ("old and never published", now - hour, None),
    ] {
        diesel::sql_query(
            "INSERT INTO outbox (frame, created_at, published_at, recipients) VALUES ($1, $2, $3, ARRAY[$4::uuid])",
        )
        .bind::<Text, _>(frame)
        .bind::<Timestamptz, _>(created)
        .bind::<diesel::sql_types::Nullable<Timestamptz>, _>(published)
        .bind::<SqlUuid, _>(uuid::Uuid::parse_str(&alice).unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let expired = uuid::Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO user_sessions (session_id, user_id, created_at, expires_at) VALUES ($1, $2::uuid, $3, $4)",
    )
    .bind::<SqlUuid, _>(expired)
    .bind::<Text, _>(&alice)
    .bind::<Timestamptz, _>(now - hour * 50)
    .bind::<Timestamptz, _>(now - chrono::Duration::seconds(1))
    .execute(&mut conn)
    .await
    .unwrap();

    let settings =
        nosebook_schema::PoolSettings { url: app.db_url.clone(), max_size: 1, timeout: Duration::from_secs(2) };
    let janitor = Janitor { db: DbPool::new(&settings).unwrap(), clock, outbox_retention: Duration::from_secs(300) };
    janitor.sweep().await.unwrap();

    let mut frames: Vec<String> = diesel::sql_query("SELECT frame FROM outbox WHERE frame NOT LIKE '{%' ORDER BY id")
        .load::<Frame>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.frame)
        .collect();
    frames.sort();
    assert_eq!(frames, ["old and never published", "young and published"]);
    let sessions: Vec<Frame> =
        diesel::sql_query("SELECT session_id::text AS frame FROM user_sessions").load(&mut conn).await.unwrap();
    let sessions: Vec<&str> = sessions.iter().map(|s| s.frame.as_str()).collect();
    assert_eq!(sessions, [session.as_str()], "the expired session is gone, the live one stays");
    assert_eq!(app.get("/whoami", Some(&session)).await.status, 200);
}
