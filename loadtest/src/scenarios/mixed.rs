//! `mixed`: what a crowd does at once — mostly reading, some writing: profile and user reads,
//! posts on walls, likes, comments, messages and friend requests, in fixed proportions.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::Rng;
use serde_json::json;
use uuid::Uuid;

use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::schedule::open_loop;
use crate::seed::Seeder;
use crate::stats::{Report, Series};

/// (action, weight out of 100).
const BLEND: [(&str, u32); 7] = [
    ("GET /users/:id", 35),
    ("GET /posts (wall)", 20),
    ("POST /posts/publish", 10),
    ("POST /like/post", 15),
    ("POST /comments/publish-on-post", 8),
    ("POST send-message", 10),
    ("POST /friendship/send-request", 2),
];

pub async fn run(common: &Common, users: usize) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let accounts = Arc::new(seeder.accounts(users.max(2)).await?);
    seeder.walls(&accounts, 5).await?;
    super::warm_up(&api, &accounts).await?;
    // Posts written during the run, for likes and comments.
    let posts: Arc<Mutex<Vec<Uuid>>> = Arc::default();

    let start = Instant::now();
    let series: Arc<Vec<Series>> = Arc::new(BLEND.iter().map(|(name, _)| Series::new(name, start)).collect());
    let end = open_loop(common.rate, common.duration(), common.quiet, "mixed", |_, at| {
        let (api, accounts, series, posts) = (api.clone(), accounts.clone(), series.clone(), posts.clone());
        async move {
            let (action, me, other, post) = {
                let mut rng = rand::thread_rng();
                let mut roll = rng.gen_range(0..100);
                let action = BLEND.iter().position(|(_, w)| {
                    let hit = roll < *w;
                    roll = roll.saturating_sub(*w);
                    hit
                });
                let me = accounts[rng.gen_range(0..accounts.len())];
                let mut other = accounts[rng.gen_range(0..accounts.len())];
                if other.id == me.id {
                    other = accounts[(accounts.iter().position(|a| a.id == me.id).unwrap_or(0) + 1) % accounts.len()];
                }
                let post = {
                    let posts = posts.lock().unwrap_or_else(|e| e.into_inner());
                    (!posts.is_empty()).then(|| posts[rng.gen_range(0..posts.len())])
                };
                (action.unwrap_or(0), me, other, post)
            };
            let s = me.session();
            // Likes and comments need a post written in this run: until there is one, read.
            let action = if matches!(action, 3 | 4) && post.is_none() { 0 } else { action };
            let post = post.unwrap_or_default();
            let outcome = match action {
                0 => api.get(&format!("/users/{}", other.id), &s).await.map(drop),
                1 => api.get(&format!("/posts?ownerId={}", other.id), &s).await.map(drop),
                2 => match api.post("/posts/publish", &s, &json!({"ownerId": me.id, "message": "load"})).await {
                    Ok(data) => {
                        if let Some(id) = data["id"].as_str().and_then(|id| id.parse().ok()) {
                            posts.lock().unwrap_or_else(|e| e.into_inner()).push(id);
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
            match outcome {
                Ok(()) => series[action].record(at, at.elapsed()),
                Err(kind) => series[action].error(kind),
            }
        }
    })
    .await;
    let elapsed = end.duration_since(start);
    let all: Vec<&Series> = series.iter().collect();
    let report = Report {
        scenario: "mixed".into(),
        settings: json!({"users": accounts.len(), "rate": common.rate, "duration_s": common.duration, "blend": BLEND}),
        elapsed_s: elapsed.as_secs_f64(),
        series: series.iter().map(|s| s.report(elapsed)).collect(),
        events: None,
        extra: serde_json::Value::Null,
    };
    let svg = plot::svg(&format!("mixed at {} ops/s", common.rate), &all);
    Ok((report, svg))
}
