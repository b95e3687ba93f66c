use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Env, seed, spawn_app, spawn_app_in, spawn_compat_app};

#[actix_web::test]
async fn ping_healthz_readyz() {
    let app = spawn_app().await;
    let ping = app.get("/ping", None).await;
    assert_eq!(ping.status, StatusCode::OK);
    assert_eq!(ping.text, "pong");
    assert!(ping.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(app.get("/healthz", None).await.data()["status"], "up");
    assert_eq!(app.get("/readyz", None).await.data()["status"], "ready");
}

#[actix_web::test]
async fn readyz_says_503_when_the_database_is_unreachable() {
    // Nothing listens on port 1: the pool cannot connect.
    let app = spawn_app_in(Env::Testing, "postgres://postgres@127.0.0.1:1/nowhere".into()).await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.error_type(), "Unavailable");
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    // A request that needs the database gets a clean 503 envelope, not a hang or a panic.
    let login = app.post("/login", None, json!({"nick": "someone", "password": "password1"})).await;
    assert_eq!(login.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(login.error_type(), "Unavailable");
}

#[actix_web::test]
async fn unknown_routes_and_wrong_methods_are_404_envelopes() {
    let app = spawn_compat_app().await;
    let expected = r#"{"ok":false,"errors":[{"type":"NotFound","message":"Route not found"}]}"#;
    for answer in [
        app.get("/nope", None).await,
        app.get("/nope", Some(seed::SESSION)).await,
        app.post("/whoami", Some(seed::SESSION), json!({})).await,
        app.get("/login", None).await,
        app.get("/users/a/b", Some(seed::SESSION)).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.text, expected);
    }
}

#[actix_web::test]
async fn a_trailing_slash_redirects_like_the_original() {
    let app = spawn_app().await;
    let get = app.get("/users/?text=x", None).await;
    assert_eq!(get.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(get.headers["location"], "/users?text=x");
    let post = app.post("/login/", None, json!({})).await;
    assert_eq!(post.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(post.headers["location"], "/login");
    assert_eq!(app.get("/nothing/", None).await.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn openapi_describes_every_route() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let mut described = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let served: BTreeSet<String> = [
        "GET /ping",
        "GET /healthz",
        "GET /readyz",
        "GET /openapi.json",
        "POST /register",
        "POST /login",
        "POST /logout",
        "GET /whoami",
        "GET /sessions",
        "POST /sessions/end",
        "POST /users/change-password",
        "GET /users",
        "GET /users/{id}",
        "POST /users/change-avatar",
        "POST /posts/publish",
        "POST /posts/remove",
        "GET /posts",
        "GET /feed",
        "GET /posts/{id}",
        "POST /comments/publish-on-post",
        "POST /comments/remove",
        "GET /comments",
        "GET /comments/{id}",
        "POST /like/post",
        "POST /like/comment",
        "POST /friendship/send-request",
        "POST /friendship/accept-request",
        "POST /friendship/deny-request",
        "POST /friendship/remove-friend",
        "POST /friendship/cancel-request",
        "GET /friendship",
        "GET /friendship/relation-between",
        "POST /conversations/send-message",
        "POST /chats/create-group",
        "POST /chats/add-members",
        "POST /chats/leave",
        "POST /chats/rename",
        "POST /chats/read",
        "POST /chats/typing",
        "GET /chats",
        "GET /chats/{id}",
        "GET /chats/{id}/reads",
        "GET /messages",
        "POST /messages/edit",
        "POST /messages/remove",
        "GET /ws",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(described, served);
    // And each of them is really served (not a 404).
    for route in &served {
        let (method, path) = route.split_once(' ').unwrap();
        let path = path.replace("{id}", seed::TEST_TESTER);
        let answer = match method {
            "GET" => app.get(&path, None).await,
            _ => app.post(&path, None, json!({})).await,
        };
        assert_ne!(answer.status, StatusCode::NOT_FOUND, "{route}");
    }
    assert!(doc.body["components"]["securitySchemes"]["session"].is_object());
}

/// What schemathesis (`scripts/fuzz-api`) holds the server to must be true: ids are UUIDs
/// wherever they appear, a command names the ids it cannot do without, and the answers every
/// operation can give are described (a plain `GET /ws` without upgrade is a 400, a command over
/// the size limit a 413, the database away a 503).
#[actix_web::test]
async fn openapi_ids_are_uuids_and_commands_require_theirs() {
    let app = spawn_compat_app().await;
    let doc = app.get("/openapi.json", None).await.body;
    let is_id = |name: &str| name == "id" || name.ends_with("Id") || name == "replyTo";
    let uuid_format = |schema: &serde_json::Value| {
        let items = if schema["type"] == "array" { &schema["items"] } else { schema };
        items["format"] == "uuid"
    };
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                if is_id(name) || name.ends_with("Ids") {
                    assert!(uuid_format(&parameter["schema"]), "{method} {path}: {name} is not a UUID: {parameter}");
                }
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if is_id(field) || field.ends_with("Ids") {
                assert!(uuid_format(property), "{name}.{field} is not a UUID: {property}");
            }
        }
    }
    let required = |name: &str| -> Vec<String> {
        let list = doc["components"]["schemas"][name]["required"].as_array().cloned().unwrap_or_default();
        list.into_iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    for (command, fields) in [
        ("PublishPost", &["ownerId", "message"][..]),
        ("RemovePost", &["id"]),
        ("PublishComment", &["id", "message"]),
        ("RemoveComment", &["id"]),
        ("SendRequest", &["responderId"]),
        ("AnswerRequest", &["requesterId"]),
        ("CancelRequest", &["responderId"]),
        ("RemoveFriend", &["friendId"]),
        ("SendMessageCommand", &["text"]),
        ("CreateGroup", &["title"]),
        ("RenameGroup", &["chatId", "title"]),
        ("AddMembers", &["chatId"]),
        ("LeaveGroup", &["chatId"]),
    ] {
        assert_eq!(required(command), fields, "{command}");
    }
    assert!(doc["paths"]["/ws"]["get"]["responses"]["400"].is_object(), "a plain GET /ws is a 400");
    // Every command can be too large, everything that reads the database can find it away.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let answers = &operation["responses"];
            if operation["requestBody"]["content"]["application/json"].is_object() {
                assert!(answers["413"].is_object(), "{method} {path} has no 413");
            }
            if !["/ping", "/healthz", "/openapi.json"].contains(&path.as_str()) {
                assert!(answers["503"].is_object(), "{method} {path} has no 503");
            }
        }
    }
    // A created chat, post or comment links on to what uses its id, spelled as OpenAPI spells it.
    for producer in ["/chats/create-group", "/posts/publish", "/comments/publish-on-post"] {
        let links = doc["paths"][producer]["post"]["responses"]["200"]["links"].as_object().unwrap();
        for (name, link) in links {
            let target = link["operationRef"].as_str().unwrap_or_else(|| panic!("{producer} {name}: {link}"));
            let pointer = target.trim_start_matches('#').to_owned();
            assert!(doc.pointer(&pointer).is_some(), "{producer} {name} points nowhere: {target}");
        }
    }
    let huge = json!({"ownerId": seed::TEST_TESTER, "message": "x".repeat(70 * 1024)});
    assert_eq!(app.post("/posts/publish", Some(seed::SESSION), huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let plain = app.get("/ws", Some(seed::SESSION)).await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
}

/// A session setting as a connection of a fresh pool shows it.
async fn pooled_setting(name: &str) -> String {
    use diesel::QueryableByName;
    use diesel_async::RunQueryDsl;
    use nosebook_schema::{DbPool, PoolSettings};

    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let url = crate::support::fresh_database().await;
    let pool = DbPool::new(&PoolSettings { url, max_size: 1, timeout: std::time::Duration::from_secs(5) }).unwrap();
    let mut conn = pool.get().await.unwrap();
    diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Setting>(&mut conn)
        .await
        .unwrap()
        .value
}

/// A pooled connection whose transaction was abandoned halfway (its future dropped or starved)
/// cannot hold its row locks for longer than PostgreSQL's idle-in-transaction bound.
#[actix_web::test]
async fn pooled_connections_bound_how_long_a_transaction_may_sit_idle() {
    assert_eq!(
        pooled_setting("idle_in_transaction_session_timeout").await,
        nosebook_schema::pool::IDLE_IN_TRANSACTION_TIMEOUT
    );
}

/// Pooled connections never compile statements to machine code (PostgreSQL's JIT), which costs
/// more than running any statement Nosebook sends.
#[actix_web::test]
async fn pooled_connections_do_not_compile_statements() {
    assert_eq!(pooled_setting("jit").await, "off");
}

/// Connections the server ended while they sat in the pool cost a request a 503 at most (worth
/// a retry), never a 500, and leave the pool: the requests after are served on fresh ones.
#[actix_web::test]
async fn connections_the_database_ends_cost_a_503_at_most_and_leave_the_pool() {
    use diesel_async::RunQueryDsl;

    let app = spawn_compat_app().await;
    // Every connection of the (four-connection) test pool open and idle.
    let reads: Vec<_> = (0..4).map(|_| app.get("/chats", Some(seed::SESSION))).collect();
    for answer in futures_util::future::join_all(reads).await {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let mut admin = crate::support::connect(&app.db_url).await;
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    // Each ended connection can fail one request at most before the pool drops it.
    let mut unavailable = 0;
    let served = loop {
        let answer = app.get("/chats", Some(seed::SESSION)).await;
        match answer.status {
            StatusCode::OK => break answer,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(answer.error_type(), "Unavailable", "{}", answer.text);
                unavailable += 1;
                assert!(unavailable <= 4, "more 503s than ended connections");
            }
            other => panic!("{other}: {}", answer.text),
        }
    };
    assert!(served.body["data"]["data"].is_array(), "{}", served.text);
}

/// A connection ended under its holder fails its next query as lost (answered 503), and the pool
/// does not hand it out again, although it was in use a moment ago and so is handed out without
/// a test query: the client does not always flag such a connection closed by itself, but the
/// failed query marks it (`schema/src/pool.rs`).
#[actix_web::test]
async fn a_connection_ended_in_use_is_reported_lost_and_not_reused() {
    use diesel::QueryableByName;
    use diesel_async::RunQueryDsl;
    use nosebook_schema::{DbError, DbPool, PoolSettings};

    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let url = crate::support::fresh_database().await;
    let pool = DbPool::new(&PoolSettings { url: url.clone(), max_size: 1, timeout: std::time::Duration::from_secs(5) })
        .unwrap();
    let mut conn = pool.get().await.unwrap();
    let Pid { pid } = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(&mut conn).await.unwrap();
    let mut admin = crate::support::connect(&url).await;
    diesel::sql_query(format!("SELECT pg_terminate_backend({pid})")).execute(&mut admin).await.unwrap();
    let lost = diesel::sql_query("SELECT 1 AS pid").get_result::<Pid>(&mut conn).await.map_err(DbError::from);
    let Err(error) = lost else { panic!("a query on an ended connection succeeded") };
    assert!(error.is_connection_lost(), "{error:?}");
    drop(conn);
    let mut fresh = pool.get().await.unwrap();
    let Pid { pid: new_pid } =
        diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(&mut fresh).await.unwrap();
    assert_ne!(new_pid, pid, "the ended connection came back from the pool");
}

/// Test databases are dropped once the test process that made them has ended, and only then: a
/// run beside this one keeps its own (tests/support).
#[actix_web::test]
async fn a_test_database_goes_once_its_process_has_ended_and_not_before() {
    use diesel_async::RunQueryDsl;

    let mut admin = crate::support::connect(&format!("{}/postgres", crate::support::server_url())).await;
    let mut ended = std::process::Command::new("true").spawn().unwrap();
    let ended_pid = ended.id();
    ended.wait().unwrap();
    let gone = format!("nosebook_test_p{ended_pid}_0000000000000000");
    let kept = format!("nosebook_test_p{}_1111111111111111", std::process::id());
    for name in [&gone, &kept] {
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
    }

    // `None` only if another test's sweep dropped it first.
    if let Some(dropping) = crate::support::drop_databases_of_ended_tests(&mut admin).await {
        dropping.join().unwrap();
    }

    let left: BTreeSet<String> =
        diesel::sql_query(format!("SELECT datname::text FROM pg_database WHERE datname IN ('{gone}', '{kept}')"))
            .load::<crate::support::Database>(&mut admin)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.datname)
            .collect();
    assert_eq!(left, BTreeSet::from([kept.clone()]));
    diesel::sql_query(format!("DROP DATABASE {kept}")).execute(&mut admin).await.unwrap();
}

/// A started node's first connections have planned a statement over every table before it
/// serves, so that its first requests do not each read the catalog entries of what they touch.
#[actix_web::test]
async fn a_started_nodes_connections_have_read_every_tables_catalog_before_it_serves() {
    use diesel::QueryableByName;
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    use nosebook_schema::pool::WARM_UP;
    use nosebook_schema::{DbPool, PoolSettings};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let url = crate::support::fresh_database().await;
    let settings = PoolSettings { url, max_size: 8, timeout: std::time::Duration::from_secs(5) };
    let pool = DbPool::connect(&settings, 1).await.unwrap();
    let mut watcher = pool.dedicated().await.unwrap();
    let warmed = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = $1",
    )
    .bind::<diesel::sql_types::Text, _>(WARM_UP)
    .get_result::<Count>(&mut watcher)
    .await
    .unwrap();
    assert_eq!(warmed.n, 4, "each connection opened before serving plans the warm-up last");
    // It plans over every table of a migrated database, and over none of an empty one.
    watcher.batch_execute(WARM_UP).await.unwrap();
    watcher.batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public").await.unwrap();
    watcher.batch_execute(WARM_UP).await.unwrap();
}
