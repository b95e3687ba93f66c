//! A real Nosebook app per test: its own database, the real HTTP stack on a random port, and a
//! real HTTP client. The clock is frozen as in `APP_ENV=testing` unless a test asks otherwise.

use nosebook::config::Settings;
use nosebook::startup::Application;
use nosebook_schema::{AsyncPgConnection, DbPool};
use reqwest::StatusCode;
use serde_json::Value;

pub use crate::support::seed;
use crate::support::{connect, fresh_database};

pub struct TestApp {
    pub address: String,
    pub db_url: String,
    pub client: reqwest::Client,
}

/// A server response: status and parsed JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The `type` of the only error of a failed answer.
    pub fn error_type(&self) -> &str {
        assert_eq!(self.body["ok"], false, "expected a failure: {}", self.text);
        assert_eq!(
            self.body["errors"].as_array().map(Vec::len),
            Some(1),
            "{}",
            self.text
        );
        self.body["errors"][0]["type"].as_str().unwrap_or_default()
    }

    pub fn error_message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
    }

    pub fn data(&self) -> &Value {
        assert_eq!(self.body["ok"], true, "expected success: {}", self.text);
        assert!(
            self.body.get("errors").is_none(),
            "errors must be omitted on success"
        );
        &self.body["data"]
    }
}

pub enum Env {
    Testing,
    Dev,
}

pub async fn spawn_app_in(env: Env, database_url: String) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        nosebook::telemetry::init(nosebook::config::AppEnv::Testing);
    }
    let app_env = match env {
        Env::Testing => "testing",
        Env::Dev => "dev",
    };
    let settings = Settings::from_lookup(|var| match var {
        "APP_ENV" => Some(app_env.into()),
        "DATABASE_URL" => Some(database_url.clone()),
        "NOSEBOOK_LISTEN" => Some("127.0.0.1:0".into()),
        "NOSEBOOK_WORKERS" => Some("1".into()),
        "NOSEBOOK_DB_POOL_SIZE" => Some("4".into()),
        "NOSEBOOK_DB_TIMEOUT_SECS" => Some("2".into()),
        _ => None,
    })
    .unwrap();
    let pool = DbPool::new(&settings.pool()).unwrap();
    let app = Application::with_pool(&settings, pool).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        db_url: database_url,
        client,
    }
}

/// An app on an empty, migrated database with the frozen clock.
pub async fn spawn_app() -> TestApp {
    spawn_app_in(Env::Testing, fresh_database().await).await
}

/// An app on the original's seed data with the frozen clock: the compatibility set-up.
pub async fn spawn_compat_app() -> TestApp {
    let url = fresh_database().await;
    let mut conn = connect(&url).await;
    nosebook::seed::compat::load(&mut conn).await.unwrap();
    spawn_app_in(Env::Testing, url).await
}

impl TestApp {
    pub async fn db(&self) -> AsyncPgConnection {
        connect(&self.db_url).await
    }

    async fn send(&self, request: reqwest::RequestBuilder, session: Option<&str>) -> Answer {
        let request = match session {
            Some(id) => request.header("X-Auth-Session-Id", id),
            None => request,
        };
        let response = request.send().await.expect("request failed");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn get(&self, path: &str, session: Option<&str>) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.address)), session)
            .await
    }

    /// POSTs raw bytes with no content type, as the original's k6 scripts do.
    pub async fn post_raw(
        &self,
        path: &str,
        session: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        self.send(
            self.client
                .post(format!("{}{path}", self.address))
                .body(body),
            session,
        )
        .await
    }

    pub async fn send_with_content_type(
        &self,
        path: &str,
        body: &str,
        content_type: &str,
    ) -> Answer {
        let request = self
            .client
            .post(format!("{}{path}", self.address))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_owned());
        self.send(request, None).await
    }

    pub async fn post(&self, path: &str, session: Option<&str>, body: Value) -> Answer {
        self.send(
            self.client
                .post(format!("{}{path}", self.address))
                .json(&body),
            session,
        )
        .await
    }

    /// Registers someone and returns (user id, session id).
    pub async fn register(&self, nick: &str) -> (String, String) {
        let answer = self
            .post(
                "/register",
                None,
                serde_json::json!({"firstName": "Test", "lastName": "Person", "nick": nick, "password": "password123"}),
            )
            .await;
        let data = answer.data();
        (
            data["user"]["id"].as_str().unwrap().to_owned(),
            data["session"]["sessionId"].as_str().unwrap().to_owned(),
        )
    }
}

/// `?key=value` for a cursor, URL-encoded.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}
