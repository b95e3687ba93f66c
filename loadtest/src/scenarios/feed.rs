//! `feed`: the news of people drawn from the database (a data set of `nosebook seed scale`),
//! read while their friends post. Each reader is paired with one of their friends, the writer;
//! every reader keeps a socket of the resumable protocol open. Measures the feed's first and
//! second pages, the publish, and for the posts: how long until the reader's socket is told
//! (`feed_post`) and, for every fifth post, until it is in the reader's `GET /feed`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::json;

use super::{SocketHealth, listen_to};
use crate::Common;
use crate::client::{Api, encode};
use crate::plot;
use crate::schedule::open_loop;
use crate::seed::{Account, Seeder};
use crate::stats::{Report, Series};

/// The actions, timed each in its series: the first page, the second page, a post.
const ACTIONS: [&str; 3] = ["GET /feed", "GET /feed (next page)", "POST /posts/publish"];

/// The scenario's options.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Options {
    /// People drawn (each with one of their friends as the writer).
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Of every hundred actions, how many are posts (the rest are feed reads, one in five of
    /// them a second page).
    #[arg(long, default_value_t = 20)]
    pub posts_percent: u32,
}
/// One post in this many is also looked for in its reader's feed, page after page of polls.
const WATCHED_EVERY: u64 = 5;
/// How often a watched post's reader asks for their feed again.
const POLL: Duration = Duration::from_millis(20);
/// How long a watched post may take to show before it counts as missing.
const GIVE_UP: Duration = Duration::from_secs(10);

pub async fn run(common: &Common, options: Options) -> anyhow::Result<(Report, String)> {
    let Options { users, posts_percent } = options;
    let posts_percent = posts_percent.min(100);
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let readers = seeder.existing_accounts(users.max(2)).await?;
    let pairs: Vec<(Account, Account)> =
        seeder.a_friend_of_each(&readers).await?.into_iter().map(|(i, writer)| (readers[i], writer)).collect();
    anyhow::ensure!(!pairs.is_empty(), "none of the {} people drawn has a friend", readers.len());
    let people: Vec<Account> = pairs.iter().flat_map(|(r, w)| [*r, *w]).collect();
    super::warm_up(&api, &people).await?;
    // A first read asks for each reader's feed to be kept; wait until the server built them all.
    for (reader, _) in &pairs {
        api.get("/feed", &reader.session()).await.map_err(|e| anyhow::anyhow!("first read: {e}"))?;
    }
    let building = Instant::now();
    while seeder.feeds_being_built().await? > 0 {
        anyhow::ensure!(building.elapsed() < Duration::from_secs(600), "the feeds were not built in 10 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !common.quiet {
        println!("feed: {} readers' feeds kept in {:.1} s", pairs.len(), building.elapsed().as_secs_f64());
    }

    let start = Instant::now();
    let series: Arc<Vec<Series>> = Arc::new(
        ACTIONS
            .into_iter()
            .chain(["feed_post at the reader", "in the reader's GET /feed"])
            .map(|name| Series::new(name, start))
            .collect(),
    );
    // Posts published and not yet announced, or announced before their publish was answered.
    let published: Arc<Mutex<HashMap<String, Seen>>> = Arc::default();
    let health = Arc::new(SocketHealth::default());
    for (reader, _) in &pairs {
        let socket =
            api.socket_at("/ws?cursor=", &reader.session(), None).await.map_err(|e| anyhow::anyhow!("socket: {e}"))?;
        let (published, series) = (published.clone(), series.clone());
        listen_to(socket, health.clone(), "feed_post", move |payload| {
            let Some(id) = payload["id"].as_str() else { return };
            let mut published = published.lock().unwrap_or_else(|e| e.into_inner());
            match published.remove(id) {
                Some(Seen::Due(due)) => series[3].record(due, due.elapsed()),
                // The event came before the publish's answer was read.
                _ => drop(published.insert(id.to_owned(), Seen::Told(Instant::now()))),
            }
        });
    }

    let pairs = Arc::new(pairs);
    let end = open_loop(common.rate, common.duration(), common.quiet, "feed", |i, at| {
        let (api, pairs, series, published) = (api.clone(), pairs.clone(), series.clone(), published.clone());
        async move {
            let (action, (reader, writer)) = {
                let mut rng = rand::thread_rng();
                let roll = rng.gen_range(0..100 * 5);
                let action = match roll {
                    r if r < posts_percent * 5 => 2,
                    // A fifth of the reads go on to the second page.
                    r if r % 5 == 0 => 1,
                    _ => 0,
                };
                (action, pairs[rng.gen_range(0..pairs.len())])
            };
            let outcome = match action {
                0 => api.get("/feed", &reader.session()).await.map(drop),
                1 => match api.get("/feed", &reader.session()).await {
                    Ok(first) => match first["next"].as_str() {
                        // Only the second page is timed, from when it was asked for.
                        Some(next) => {
                            let asked = Instant::now();
                            let page = api.get(&format!("/feed?next={}", encode(next)), &reader.session()).await;
                            if page.is_ok() {
                                series[1].record(asked, asked.elapsed());
                            }
                            return page.map_or_else(|e| series[1].error(e), drop);
                        }
                        None => Ok(()),
                    },
                    Err(e) => Err(e),
                },
                _ => {
                    let body = json!({"ownerId": writer.id, "message": format!("feed {i}")});
                    match api.post("/posts/publish", &writer.session(), &body).await {
                        Ok(post) => {
                            let id = post["id"].as_str().unwrap_or_default().to_owned();
                            let mut seen = published.lock().unwrap_or_else(|e| e.into_inner());
                            match seen.remove(&id) {
                                Some(Seen::Told(told)) => series[3].record(at, told.saturating_duration_since(at)),
                                _ => drop(seen.insert(id.clone(), Seen::Due(at))),
                            }
                            drop(seen);
                            if i % WATCHED_EVERY == 0 {
                                tokio::spawn(watch(api.clone(), reader, id, at, series.clone()));
                            }
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match outcome {
                Ok(()) => series[action].record(at, at.elapsed()),
                Err(kind) => series[action].error(kind),
            }
        }
    })
    .await;
    // The last posts' announcements and polls.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let elapsed = end.duration_since(start);
    let unannounced =
        published.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|s| matches!(s, Seen::Due(_))).count();
    let all: Vec<&Series> = series.iter().collect();
    let mut report = Report {
        scenario: "feed".into(),
        settings: json!({"readers": pairs.len(), "rate": common.rate, "duration_s": common.duration, "posts_percent": posts_percent}),
        elapsed_s: elapsed.as_secs_f64(),
        series: series.iter().map(|s| s.report(elapsed)).collect(),
        events: None,
        extra: json!({"posts_never_announced": unannounced}),
        failures: Vec::new(),
        notes: Vec::new(),
    };
    if unannounced > 0 {
        report.failures.push(format!("{unannounced} posts never reached their reader's socket as feed_post"));
    }
    let svg = plot::svg(&format!("feed at {} ops/s", common.rate), &all);
    Ok((report, svg))
}

/// Where a post is between its publish and its `feed_post`.
enum Seen {
    /// Published (due then), not yet announced.
    Due(Instant),
    /// Announced (then) before its publish was answered.
    Told(Instant),
}

/// Asks for `reader`'s feed until `post` is on its first page: the time from when the post was
/// due to be published.
async fn watch(api: Api, reader: Account, post: String, due: Instant, series: Arc<Vec<Series>>) {
    while due.elapsed() < GIVE_UP {
        if let Ok(page) = api.get("/feed", &reader.session()).await
            && page["data"].as_array().is_some_and(|posts| posts.iter().any(|p| p["id"] == post.as_str()))
        {
            series[4].record(due, due.elapsed());
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    series[4].error("not in the feed after 10 s");
}
