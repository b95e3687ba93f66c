//! `read`: authenticated REST reads. `GET /users/:id`; a profile page, which a client loads as
//! three requests at once (the user, the first page of their wall, their friends); `GET /chats`.

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

/// Posts on each prepared wall.
const POSTS_PER_WALL: i32 = 15;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Page {
    User,
    Profile,
    Chats,
}

pub async fn run(common: &Common, users: usize, page: &str) -> anyhow::Result<(Report, String)> {
    let pages: Vec<Page> = match page {
        "user" => vec![Page::User],
        "profile" => vec![Page::Profile],
        "chats" => vec![Page::Chats],
        "all" => vec![Page::User, Page::Profile, Page::Chats],
        other => anyhow::bail!("unknown page {other:?}: user, profile, chats or all"),
    };
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let accounts = seeder.accounts(users.max(2)).await?;
    seeder.walls(&accounts, POSTS_PER_WALL).await?;
    // For `scripts/bench reads --statements`, which reads the same rows straight from PostgreSQL.
    let run = seeder.run_id().to_owned();
    println!("prepared run {run}: {} users", accounts.len());
    let accounts = Arc::new(accounts);
    super::warm_up(&api, &accounts).await?;

    let start = Instant::now();
    let series = Arc::new([
        Series::new("GET /users/:id", start),
        Series::new("profile page (3 requests)", start),
        Series::new("GET /chats", start),
    ]);
    let end = open_loop(common.rate, common.duration(), common.quiet, "read", |i, at| {
        let page = pages[i as usize % pages.len()];
        let (api, accounts, series) = (api.clone(), accounts.clone(), series.clone());
        async move {
            let (caller, target) = {
                let mut rng = rand::thread_rng();
                (accounts[rng.gen_range(0..accounts.len())], accounts[rng.gen_range(0..accounts.len())])
            };
            let (series, outcome) = match page {
                Page::User => {
                    (&series[0], api.get(&format!("/users/{}", target.id), &caller.session()).await.map(drop))
                }
                Page::Profile => (&series[1], profile(&api, caller, target).await),
                Page::Chats => (&series[2], api.get("/chats", &caller.session()).await.map(drop)),
            };
            match outcome {
                Ok(()) => series.record(at, at.elapsed()),
                Err(kind) => series.error(kind),
            }
        }
    })
    .await;
    let elapsed = end.duration_since(start);
    let used: Vec<&Series> = [Page::User, Page::Profile, Page::Chats]
        .iter()
        .zip(series.iter())
        .filter(|(p, _)| pages.contains(p))
        .map(|(_, s)| s)
        .collect();
    let report = Report {
        scenario: "read".into(),
        settings: json!({
            "users": accounts.len(), "page": page, "rate": common.rate, "duration_s": common.duration, "run": run,
        }),
        elapsed_s: elapsed.as_secs_f64(),
        series: used.iter().map(|s| s.report(elapsed)).collect(),
        events: None,
        failures: Vec::new(),
        extra: serde_json::Value::Null,
        notes: Vec::new(),
    };
    let svg = plot::svg(&format!("read ({page}) at {} req/s", common.rate), &used);
    Ok((report, svg))
}

async fn profile(api: &Api, caller: Account, target: Account) -> Result<(), String> {
    let session = caller.session();
    let (user, wall, friends) = (
        format!("/users/{}", target.id),
        format!("/posts?ownerId={}", target.id),
        format!("/friendship?userId={}&accepted=true", target.id),
    );
    let (user, wall, friends) =
        tokio::join!(api.get(&user, &session), api.get(&wall, &session), api.get(&friends, &session));
    user.and(wall).and(friends).map(drop)
}
