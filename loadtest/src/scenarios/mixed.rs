//! `mixed`: what a crowd does at once — mostly reading, some writing: profile and user reads,
//! posts on walls, likes, comments, messages and friend requests, in fixed proportions.
//!
//! The crowd is new people, each with five posts on their wall and two friends; or, with
//! `--existing-people` (here and in `soak`), people drawn at random from those already in the
//! database, such as a data set of `nosebook seed scale`, given a session and nothing else, so
//! that the reads of walls and profiles meet that data set's walls and friend lists. Likes and
//! comments are on posts written during the run either way.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::Rng;
use serde_json::json;
use uuid::Uuid;

use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::schedule::open_loop;
use crate::seed::{Account, Seeder};
use crate::stats::{Report, Series};

/// (action, weight out of 100).
pub const BLEND: [(&str, u32); 7] = [
    ("GET /users/:id", 35),
    ("GET /posts (wall)", 20),
    ("POST /posts/publish", 10),
    ("POST /like/post", 15),
    ("POST /comments/publish-on-post", 8),
    ("POST send-message", 10),
    ("POST /friendship/send-request", 2),
];

/// Where the crowd comes from; the same flag for `mixed` and `soak`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct CrowdSource {
    /// Draw the people from those already in the database (e.g. loaded by `nosebook seed scale`)
    /// instead of making new ones: uniformly over the whole users table, fixed by the run id,
    /// each given a new session and nothing else (no posts, no friends added). Fails when the
    /// database has fewer people than asked for.
    #[arg(long)]
    pub existing_people: bool,
}

/// People doing the blend's actions at random; shared by every task of a run (`mixed`, `soak`).
pub struct Crowd {
    api: Api,
    pub accounts: Vec<Account>,
    /// Posts written during the run, for likes and comments; the newest few thousand (the tool
    /// must stay flat itself over a long soak).
    posts: Mutex<Vec<Uuid>>,
}

/// Posts remembered for likes and comments.
const POSTS_KEPT: usize = 4_096;

impl Crowd {
    /// `users` people with something on their walls, signed in once (steady state, not a login
    /// storm): new ones, or drawn from the database's people as they are (see [`CrowdSource`]).
    pub async fn prepare(api: &Api, seeder: &mut Seeder, users: usize, source: CrowdSource) -> anyhow::Result<Self> {
        let accounts = if source.existing_people {
            seeder.existing_accounts(users.max(2)).await?
        } else {
            let accounts = seeder.accounts(users.max(2)).await?;
            seeder.walls(&accounts, 5).await?;
            accounts
        };
        super::warm_up(api, &accounts).await?;
        Ok(Self { api: api.clone(), accounts, posts: Mutex::default() })
    }

    /// One action of the blend, picked at random: its index in [`BLEND`] and how it went.
    pub async fn act(&self) -> (usize, Result<(), String>) {
        let (action, me, other, post) = {
            let mut rng = rand::thread_rng();
            let mut roll = rng.gen_range(0..100);
            let action = BLEND.iter().position(|(_, w)| {
                let hit = roll < *w;
                roll = roll.saturating_sub(*w);
                hit
            });
            let n = self.accounts.len();
            let mine = rng.gen_range(0..n);
            let theirs = (mine + rng.gen_range(1..n)) % n;
            let post = {
                let posts = self.posts.lock().unwrap_or_else(|e| e.into_inner());
                (!posts.is_empty()).then(|| posts[rng.gen_range(0..posts.len())])
            };
            (action.unwrap_or(0), self.accounts[mine], self.accounts[theirs], post)
        };
        let s = me.session();
        let api = &self.api;
        // Likes and comments need a post written in this run: until there is one, read.
        let action = if matches!(action, 3 | 4) && post.is_none() { 0 } else { action };
        let post = post.unwrap_or_default();
        let outcome = match action {
            0 => api.get(&format!("/users/{}", other.id), &s).await.map(drop),
            1 => api.get(&format!("/posts?ownerId={}", other.id), &s).await.map(drop),
            2 => match api.post("/posts/publish", &s, &json!({"ownerId": me.id, "message": "load"})).await {
                Ok(data) => {
                    if let Some(id) = data["id"].as_str().and_then(|id| id.parse().ok()) {
                        let mut posts = self.posts.lock().unwrap_or_else(|e| e.into_inner());
                        if posts.len() == POSTS_KEPT {
                            posts.remove(0);
                        }
                        posts.push(id);
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            },
            3 => api.post("/like/post", &s, &json!({"id": post})).await.map(drop),
            4 => api.post("/comments/publish-on-post", &s, &json!({"id": post, "message": "nice"})).await.map(drop),
            5 => api
                .post("/conversations/send-message", &s, &json!({"recipientId": other.id, "text": "hi"}))
                .await
                .map(drop),
            _ => match api.post("/friendship/send-request", &s, &json!({"responderId": other.id})).await {
                // Already friends or already asked: the answer a real client gets too.
                Err(kind) if kind.starts_with("HTTP 409") => Ok(()),
                other => other.map(drop),
            },
        };
        (action, outcome)
    }

    /// Acts at `rate` per second for `common.duration()`, each action timed into its series of
    /// [`blend_series`]; answers when the last action ended. With `in_flight`, at most that many
    /// actions are out at once: the others wait their turn, their latency still counted from
    /// when they were due.
    pub async fn drive(
        self: &Arc<Self>,
        common: &Common,
        name: &str,
        series: &Arc<Vec<Series>>,
        in_flight: Option<usize>,
    ) -> Instant {
        let turns = in_flight.map(|n| Arc::new(tokio::sync::Semaphore::new(n)));
        open_loop(common.rate, common.duration(), common.quiet, name, |_, at| {
            let (crowd, series, turns) = (self.clone(), series.clone(), turns.clone());
            async move {
                let _turn = match &turns {
                    Some(turns) => turns.acquire().await.ok(),
                    None => None,
                };
                match crowd.act().await {
                    (action, Ok(())) => series[action].record(at, at.elapsed()),
                    (action, Err(kind)) => series[action].error(kind),
                }
            }
        })
        .await
    }
}

/// One latency series per action of the blend.
pub fn blend_series(start: Instant) -> Vec<Series> {
    BLEND.iter().map(|(name, _)| Series::new(name, start)).collect()
}

pub async fn run(common: &Common, users: usize, source: CrowdSource) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let crowd = Arc::new(Crowd::prepare(&api, &mut seeder, users, source).await?);

    let start = Instant::now();
    let series: Arc<Vec<Series>> = Arc::new(blend_series(start));
    let end = crowd.drive(common, "mixed", &series, None).await;
    let elapsed = end.duration_since(start);
    let all: Vec<&Series> = series.iter().collect();
    let report = Report {
        scenario: "mixed".into(),
        settings: json!({"users": crowd.accounts.len(), "existing_people": source.existing_people, "rate": common.rate, "duration_s": common.duration, "blend": BLEND}),
        elapsed_s: elapsed.as_secs_f64(),
        series: series.iter().map(|s| s.report(elapsed)).collect(),
        events: None,
        extra: serde_json::Value::Null,
        failures: Vec::new(),
        notes: Vec::new(),
    };
    let svg = plot::svg(&format!("mixed at {} ops/s", common.rate), &all);
    Ok((report, svg))
}
