//! Who is online, as seen from this node.
//!
//! The database's `users.last_activity_at` is the durable record, written at most every few
//! seconds per session (see [`crate::sessions`]). The tracker holds the exact last activity of
//! every user active here in the last five minutes, so that user objects built on this node show
//! it without waiting for the write, and so that the online count is one lookup.

use std::collections::HashMap;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use nosebook_schema::ids::UserId;
use nosebook_schema::time::{Clock, is_online};

/// How often users who went quiet are dropped from the view.
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

pub struct PresenceTracker {
    clock: Clock,
    last_seen: HashMap<UserId, DateTime<Utc>>,
}

impl PresenceTracker {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            last_seen: HashMap::new(),
        }
    }

    fn sweep(&mut self) {
        let now = self.clock.now();
        self.last_seen.retain(|_, at| is_online(*at, now));
    }
}

impl Actor for PresenceTracker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(SWEEP_INTERVAL, |tracker, _| tracker.sweep());
    }
}

/// A user did something at `at`.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Activity {
    pub user: UserId,
    pub at: DateTime<Utc>,
}

impl Handler<Activity> for PresenceTracker {
    type Result = ();

    fn handle(&mut self, msg: Activity, _: &mut Self::Context) {
        let seen = self.last_seen.entry(msg.user).or_insert(msg.at);
        *seen = (*seen).max(msg.at);
    }
}

/// The last activity this node has seen for each of these users, where it has seen any.
#[derive(Message, Debug, Clone)]
#[rtype(result = "HashMap<UserId, DateTime<Utc>>")]
pub struct LastSeen(pub Vec<UserId>);

impl Handler<LastSeen> for PresenceTracker {
    type Result = MessageResult<LastSeen>;

    fn handle(&mut self, msg: LastSeen, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            msg.0
                .into_iter()
                .filter_map(|id| self.last_seen.get(&id).map(|at| (id, *at)))
                .collect(),
        )
    }
}

/// How many users were active on this node within the online window.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "usize")]
pub struct OnlineCount;

impl Handler<OnlineCount> for PresenceTracker {
    type Result = usize;

    fn handle(&mut self, _: OnlineCount, _: &mut Self::Context) -> usize {
        let now = self.clock.now();
        self.last_seen.values().filter(|at| is_online(**at, now)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration as Span;
    use uuid::Uuid;

    #[actix_rt::test]
    async fn keeps_the_latest_activity_and_counts_online_users() {
        let clock = Clock::testing();
        let now = clock.now();
        let tracker = PresenceTracker::new(clock).start();
        let (a, b, c) = (UserId(Uuid::new_v4()), UserId(Uuid::new_v4()), UserId(Uuid::new_v4()));
        tracker.do_send(Activity { user: a, at: now });
        tracker.do_send(Activity {
            user: a,
            at: now - Span::seconds(30),
        });
        tracker.do_send(Activity {
            user: b,
            at: now - Span::minutes(6),
        });

        let seen = tracker.send(LastSeen(vec![a, b, c])).await.unwrap();
        assert_eq!(seen.get(&a), Some(&now), "an older report must not win");
        assert!(seen.contains_key(&b));
        assert!(!seen.contains_key(&c));
        assert_eq!(
            tracker.send(OnlineCount).await.unwrap(),
            1,
            "b went quiet six minutes ago"
        );
    }
}
