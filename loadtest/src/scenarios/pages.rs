//! `pages`: the web app as a browser loads it — server-rendered HTML under `/app`, signed in by
//! the `nosebook_session` cookie: a person's page with their wall, the friends page, the
//! messenger, an open group chat and a search. Latency is the whole page's, from the scheduled
//! time.

use std::sync::Arc;
use std::time::Instant;

use rand::Rng;
use serde_json::json;

use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::schedule::open_loop;
use crate::seed::{Account, Seeder};
use crate::stats::{Report, Series};

/// Posts on each prepared wall (the page shows ten, with their likes and first comments).
const POSTS_PER_WALL: i32 = 15;

/// Members of each prepared group chat, and its messages (the chat shows the newest twenty).
const GROUP: usize = 5;
const MESSAGES: i32 = 30;

const PAGES: [&str; 5] =
    ["GET /app/users/:id", "GET /app/friends", "GET /app/messenger", "GET /app/messenger/:chat", "GET /app/search"];

pub async fn run(common: &Common, users: usize) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let accounts = seeder.accounts(users.max(2)).await?;
    seeder.walls(&accounts, POSTS_PER_WALL).await?;
    let chats = Arc::new(seeder.conversations(&accounts, GROUP, MESSAGES).await?);
    println!("prepared run {}: {} users", seeder.run_id(), accounts.len());
    let accounts = Arc::new(accounts);
    super::warm_up(&api, &accounts).await?;

    let start = Instant::now();
    let series = Arc::new(PAGES.map(|name| Series::new(name, start)));
    let end = open_loop(common.rate, common.duration(), common.quiet, "pages", |n, at| {
        let (api, accounts, series, chats) = (api.clone(), accounts.clone(), series.clone(), chats.clone());
        async move {
            let (i, caller, target): (usize, Account, Account) = {
                let mut rng = rand::thread_rng();
                let i = rng.gen_range(0..accounts.len());
                (i, accounts[i], accounts[rng.gen_range(0..accounts.len())])
            };
            let which = n as usize % PAGES.len();
            let path = match which {
                0 => format!("/app/users/{}", target.id),
                1 => "/app/friends".to_owned(),
                2 => "/app/messenger".to_owned(),
                3 => format!("/app/messenger/{}", chats[i / GROUP]),
                _ => "/app/search?text=Load".to_owned(),
            };
            match api.page(&path, &caller.cookie()).await {
                Ok(()) => series[which].record(at, at.elapsed()),
                Err(kind) => series[which].error(kind),
            }
        }
    })
    .await;
    let elapsed = end.duration_since(start);
    let report = Report {
        scenario: "pages".into(),
        settings: json!({ "users": accounts.len(), "rate": common.rate, "duration_s": common.duration }),
        elapsed_s: elapsed.as_secs_f64(),
        series: series.iter().map(|s| s.report(elapsed)).collect(),
        events: None,
        failures: Vec::new(),
        extra: serde_json::Value::Null,
        notes: Vec::new(),
    };
    let used: Vec<&Series> = series.iter().collect();
    let svg = plot::svg(&format!("web pages at {} req/s", common.rate), &used);
    Ok((report, svg))
}
