//! The web app in a real browser: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`), against the real binary. Assertions are on what is displayed; pages visited
//! are saved under `target/tmp/screenshots/`, and one tour of the demo people (`nosebook seed
//! demo`) saves the README's pictures to `docs/screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

// Sweeps and defects by theme: how pages fit a phone and read to everyone, what changes live
// without a reload, and what forms and words tell people.
mod forms;
mod layout;
mod live;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use support::server::{BIN, free_port, serve};

/// chromedriver and the Chromium it starts, in a process group of their own, all stopped when the
/// test ends however it ends (a failed assertion never closes its WebDriver session, and Chromium
/// outlives a killed chromedriver).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// A fresh headless Chromium (its own profile: no cookies shared between browsers).
async fn browser() -> (Driver, Client) {
    browser_with(None).await
}

/// A fresh headless Chromium, in time zone `zone` when given (else the machine's).
async fn browser_with(zone: Option<&str>) -> (Driver, Client) {
    let port = free_port();
    let mut command = Command::new("chromedriver");
    if let Some(zone) = zone {
        command.env("TZ", zone);
    }
    let driver = Driver(
        command
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is missing: scripts/test installs Debian's chromium and chromium-driver"),
    );
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1200,900", "--lang=en-US"],
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        if let Ok(client) = ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return (driver, client);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver never answered");
}

/// What a test saw, to look at when it fails: under the build's temporary directory, never in the
/// README (test strings and scripts-as-names make poor pictures).
async fn screenshot(client: &Client, name: &str) {
    save_screenshot(client, &std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"), name).await;
}

/// A picture for the README, of the demo people: `docs/screenshots/`.
async fn readme_screenshot(client: &Client, name: &str) {
    settle(client).await;
    // A blinking caret would make every run's picture differ.
    client.execute("document.activeElement && document.activeElement.blur();", vec![]).await.unwrap();
    save_screenshot(client, &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"), name).await;
}

async fn save_screenshot(client: &Client, dir: &std::path::Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// htmx marks what it is working on: the element whose request is in flight (`htmx-request`) and
/// the target being swapped and settled. None of them on the page means no swap is about to
/// replace what a test finds next.
const SETTLED: &str = "return document.readyState === 'complete' && \
    document.querySelectorAll('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added').length === 0;";

/// Waits until htmx has no request in flight and no swap under way.
async fn settle(client: &Client) {
    wait_script(client, SETTLED, "htmx settled").await;
}

/// Finds the first element matching `css` once the page is settled and does `act` on it. A live
/// event can still swap the element between the find and the act (the WebDriver then calls it
/// stale): it is found anew and acted on again, a bounded number of times.
async fn on<T>(client: &Client, css: &str, act: impl AsyncFn(Element) -> Result<T, CmdError>) -> T {
    on_located(client, Locator::Css(css), act).await
}

/// As [`on`], for any way of finding the element.
async fn on_located<T>(client: &Client, find: Locator<'_>, act: impl AsyncFn(Element) -> Result<T, CmdError>) -> T {
    let mut last = None;
    for _ in 0..10 {
        settle(client).await;
        let element = client.wait().at_most(Duration::from_secs(10)).for_element(find).await.unwrap();
        match act(element).await {
            Ok(value) => return value,
            Err(e) if changed_under(&e) => last = Some(e),
            Err(e) => panic!("{find:?}: {e}"),
        }
    }
    panic!("{find:?} kept changing under the test: {last:?}");
}

/// The element changed between the find and the act: it went (stale), is not yet usable, or
/// something covers it for now. ChromeDriver may also say a node that went "does not belong to
/// the document", as an unknown error (seen with Chromium 156).
fn changed_under(e: &CmdError) -> bool {
    e.is_stale_element_reference()
        || e.is_element_not_interactable()
        || matches!(e, CmdError::Standard(w) if w.error == ErrorStatus::ElementClickIntercepted
            || (w.error == ErrorStatus::UnknownError && w.message.contains("does not belong to the document")))
}

/// The displayed text of the first element matching `css`, once there is one.
async fn visible_text(client: &Client, css: &str) -> String {
    let (displayed, text) = on(client, css, async |e| Ok((e.is_displayed().await?, e.text().await?))).await;
    assert!(displayed, "{css} is not displayed");
    text
}

/// Waits until the page's path is `path` (or starts with it, for ids).
async fn wait_for_path(client: &Client, prefix: &str) -> String {
    for _ in 0..100 {
        let url = client.current_url().await.unwrap();
        if url.path().starts_with(prefix) {
            return url.path().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reached {prefix}; at {}", client.current_url().await.unwrap());
}

/// Types into the first field named `name`, or the first matching `name` as CSS when it has a space.
async fn fill(client: &Client, name: &str, value: &str) {
    let css = if name.contains(' ') { name.to_owned() } else { format!("[name={name}]") };
    on(client, &css, async |field| {
        field.clear().await?;
        field.send_keys(value).await
    })
    .await;
}

/// Presses Enter in the first element matching `css`.
async fn press_enter(client: &Client, css: &str) {
    on(client, css, async |e| e.send_keys("\u{E007}").await).await;
}

/// An attribute of the first element matching `css`.
async fn attr(client: &Client, css: &str, name: &str) -> Option<String> {
    on(client, css, async |e| e.attr(name).await).await
}

/// Polls until the first element matching `css` is displayed and its text satisfies `ok`.
async fn wait_text(client: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..150 {
        // Found anew each time: a swap in between only makes this round miss.
        if let Ok(element) = client.find(Locator::Css(css)).await
            && element.is_displayed().await.unwrap_or(false)
            && let Ok(text) = element.text().await
        {
            last = text;
            if ok(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never showed what was expected; last text {last:?}");
}

/// Polls until `script` returns `true`, for up to ten seconds; `what` names the awaited state in
/// the failure.
async fn wait_script(client: &Client, script: &str, what: &str) {
    for _ in 0..200 {
        if client.execute(script, vec![]).await.unwrap() == serde_json::json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never so: {what}");
}

/// Waits until an element matching `css` exists and is displayed.
async fn wait_visible(client: &Client, css: &str) {
    wait_text(client, css, |_| true).await;
}

/// A fresh database holding the compat seed, loaded by the real binary.
async fn compat_database() -> String {
    let db = support::fresh_database().await;
    assert!(Command::new(BIN).args(["seed", "compat"]).env("DATABASE_URL", &db).status().unwrap().success());
    db
}

async fn log_in(client: &Client, base: &str, nick: &str, password: &str) -> String {
    client.goto(&format!("{base}/app/login")).await.unwrap();
    fill(client, "nick", nick).await;
    fill(client, "password", password).await;
    click(client, "button[type=submit].primary").await;
    // Signed in, the app opens on the news; from there to the person's own page.
    wait_for_path(client, "/app/news").await;
    click(client, "nav.menu a.my-page").await;
    let page = wait_for_path(client, "/app/users/").await;
    wait_live(client).await;
    page
}

/// Waits until the page's live socket is open.
async fn wait_live(client: &Client) {
    wait_visible(client, "body[data-live=on]").await;
}

async fn click(client: &Client, css: &str) {
    on(client, css, async |e| e.click().await).await;
}

/// Clicks the link whose text is `text`.
async fn click_link(client: &Client, text: &str) {
    on_located(client, Locator::LinkText(text), async |e| e.click().await).await;
}

const XSS_NAME: &str = r#""><img src=x onerror=alert(1)>"#;
const XSS_POST: &str = "<script>alert('post')</script> Hello, wall";

#[tokio::test]
async fn sign_up_post_search_log_out_and_in_again_in_a_real_browser() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, client) = browser().await;

    // The front door leads a stranger to the login page.
    client.goto(&base).await.unwrap();
    wait_for_path(&client, "/app/login").await;
    assert_eq!(visible_text(&client, "h1").await, "Log in");
    screenshot(&client, "login").await;

    // Sign up: an empty form is refused field by field, next to each field.
    click_link(&client, "Sign up").await;
    wait_for_path(&client, "/app/signup").await;
    click(&client, "button[type=submit].primary").await;
    assert_eq!(visible_text(&client, "#field-nick-error").await, "Required");
    assert_eq!(visible_text(&client, "#field-password-error").await, "Required");
    screenshot(&client, "signup-errors").await;

    fill(&client, "first_name", "Jane").await;
    fill(&client, "last_name", XSS_NAME).await;
    fill(&client, "nick", "jane_in_browser").await;
    fill(&client, "password", "a long secret").await;
    click(&client, "button[type=submit].primary").await;
    let my_page = wait_for_path(&client, "/app/users/").await;

    // The name is shown as written: text, not markup.
    let heading = visible_text(&client, ".profile h1").await;
    assert_eq!(heading.trim(), format!("Jane {XSS_NAME}"));
    assert!(client.find_all(Locator::Css(".profile h1 img")).await.unwrap().is_empty());

    // A post goes on the wall without a reload, as text.
    fill(&client, "message", XSS_POST).await;
    click(&client, ".compose button").await;
    assert_eq!(visible_text(&client, "#posts .post .text").await, XSS_POST);
    assert_eq!(client.current_url().await.unwrap().path(), my_page, "no navigation");
    assert!(on(&client, ".compose textarea", async |e| e.prop("value").await).await.unwrap().is_empty());
    // It is stored: a reload shows it.
    client.refresh().await.unwrap();
    assert_eq!(visible_text(&client, "#posts .post .text").await, XSS_POST);
    let alert = client.get_alert_text().await;
    assert!(alert.is_err(), "no script ran: {alert:?}");

    // A new avatar: previewed before it leaves, then shown from storage, re-encoded to 400×400.
    let picture = std::env::temp_dir().join(format!("nosebook-browser-{}.png", std::process::id()));
    image::RgbImage::from_fn(600, 400, |x, _| image::Rgb([(x % 256) as u8, 90, 200])).save(&picture).unwrap();
    on(&client, "#avatar-file", async |e| e.send_keys(picture.to_str().unwrap()).await).await;
    wait_visible(&client, "#avatar-preview").await;
    click(&client, ".avatar-form button").await;
    wait_visible(&client, ".avatar-box img.avatar.large").await;
    let loaded =
        "const i = document.querySelector('.avatar-box img.avatar.large'); return i.complete ? i.naturalWidth : 0;";
    let mut width = serde_json::json!(0);
    for _ in 0..100 {
        width = client.execute(loaded, vec![]).await.unwrap();
        if width != 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(width, serde_json::json!(400), "the stored avatar loads at 400 px");
    let _ = std::fs::remove_file(&picture);
    screenshot(&client, "profile").await;
    // On a phone: one column, the menu above the page.
    window_resized_to(&client, (390, 844), None).await;
    client.refresh().await.unwrap();
    wait_visible(&client, ".profile h1").await;
    let (menu_x, _, _, _) = on(&client, "nav.menu", async |e| e.rectangle().await).await;
    let (main_x, _, _, _) = on(&client, "main", async |e| e.rectangle().await).await;
    assert!((menu_x - main_x).abs() < 1.0, "stacked, not side by side");
    screenshot(&client, "profile-phone").await;
    window_resized_to(&client, (1200, 900), None).await;

    // Search as you type, from the header.
    fill(&client, "form.search input", "asser").await;
    assert!(visible_text(&client, "#search-results .people").await.contains("Ass Asser"));
    screenshot(&client, "search").await;
    click_link(&client, "Ass Asser").await;
    wait_for_path(&client, &format!("/app/users/{}", support::seed::ASS_ASSER)).await;
    assert!(visible_text(&client, ".profile h1").await.contains("Ass Asser"));
    screenshot(&client, "someone-else").await;

    // In Russian, then back.
    click_link(&client, "Русский").await;
    assert_eq!(visible_text(&client, "nav.menu a.my-page").await, "Моя страница");
    screenshot(&client, "someone-else-ru").await;
    click_link(&client, "English").await;
    assert_eq!(visible_text(&client, "nav.menu a.my-page").await, "My page");

    // Log out, then a wrong password is refused at the password field, the right one lets in.
    click(&client, "form.logout button").await;
    wait_for_path(&client, "/app/login").await;
    client.goto(&format!("{base}{my_page}")).await.unwrap();
    wait_for_path(&client, "/app/login").await;
    fill(&client, "nick", "jane_in_browser").await;
    fill(&client, "password", "not the secret").await;
    click(&client, "button[type=submit].primary").await;
    assert_eq!(visible_text(&client, "#field-password-error").await, "Wrong nick or password");
    fill(&client, "password", "a long secret").await;
    click(&client, "button[type=submit].primary").await;
    // Back where she was going when she was asked to log in.
    assert_eq!(wait_for_path(&client, "/app/users/").await, my_page);

    client.close().await.unwrap();
}

/// Without a browser: the app's protections as HTTP sees them.
#[tokio::test]
async fn the_app_sends_its_policy_and_refuses_forged_posts() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let login = http.get(format!("{base}/app/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let csp = login.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let page = login.text().await.unwrap();
    assert!(!page.contains("<script>"), "no inline script");

    // Logging in by the form sets the cookie the original frontend used.
    let signed_in = http
        .post(format!("{base}/app/login"))
        .form(&[("nick", "ass_asser"), ("password", "123123123")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("nosebook_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_owned();

    // A post without the page's token is refused and nothing is written.
    let wall = format!("{base}/app/users/{}/posts", support::seed::ASS_ASSER);
    let forged = http.post(&wall).header("Cookie", &cookie).form(&[("message", "forged")]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    let wrong = http
        .post(&wall)
        .header("Cookie", &cookie)
        .form(&[("message", "forged"), ("csrf", "0123")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let page = http.get(format!("{base}/app/users/{}", support::seed::ASS_ASSER)).header("Cookie", &cookie);
    let page = page.send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("forged"));

    // With the token from the page, it is published.
    let token = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let real =
        http.post(&wall).header("Cookie", &cookie).form(&[("message", "real"), ("csrf", &token)]).send().await.unwrap();
    assert_eq!(real.status(), 303);

    // The JSON API does not take the cookie (it has no tokens): only the header signs in there.
    let api = http.get(format!("{base}/whoami")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(api.status(), 403);

    // The live socket takes the cookie from our own pages only.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let upgrade = |origin: &str| {
        let mut request = format!("{}/ws", base.replace("http", "ws")).into_client_request().unwrap();
        request.headers_mut().insert("Cookie", cookie.parse().unwrap());
        request.headers_mut().insert("Origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    assert!(upgrade(&base).await.is_ok(), "our own page opens it");
    match upgrade("https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("a foreign page got a socket: {:?}", other.map(|_| ())),
    }

    // A signed-out form post from another site is refused.
    let cross = http
        .post(format!("{base}/app/login"))
        .header("Origin", "https://evil.example")
        .form(&[("nick", "ass_asser"), ("password", "123123123")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
}

/// Two people, two browsers: a friend request, a like, a comment and messages sent by one show up
/// in the other's open page without a reload, and an online dot turns on when a friend logs in.
#[tokio::test]
async fn two_people_see_each_other_live() {
    use support::seed::{DRUGTESTER, PASSWORD, TEST_TESTER};
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver_a, a) = browser().await;
    let (_driver_b, b) = browser().await;

    // A is test_tester: two requests wait for them in the seed.
    log_in(&a, &base, "test_tester", PASSWORD).await;
    assert_eq!(wait_text(&a, "[data-badge=friends]", |t| !t.is_empty()).await, "2");
    log_in(&b, &base, "ass_asser", PASSWORD).await;

    // B asks A to be friends; A's badge counts it at once and a toast says who.
    b.goto(&format!("{base}/app/users/{TEST_TESTER}")).await.unwrap();
    click(&b, &format!("#friendship-{TEST_TESTER} button")).await;
    wait_text(&b, &format!("#friendship-{TEST_TESTER} .state"), |t| t == "Request sent").await;
    wait_text(&a, "#toasts .toast", |t| t.contains("Ass Asser")).await;
    wait_text(&a, "[data-badge=friends]", |t| t == "3").await;

    // A posts; B likes it and comments; A's count moves live.
    fill(&a, ".compose textarea", "Live wall post").await;
    click(&a, ".compose button").await;
    wait_text(&a, "#posts .post .text", |t| t == "Live wall post").await;
    let post = attr(&a, "#posts .post", "id").await.unwrap();
    let post = post.trim_start_matches("post-").to_owned();
    b.refresh().await.unwrap();
    click(&b, &format!("#post-{post} form.like button")).await;
    wait_text(&b, &format!("#post-{post} form.like button.on .count"), |t| t == "1").await;
    wait_text(&a, &format!("[data-likes='{post}']"), |t| t == "1").await;
    wait_text(&a, "#toasts", |t| t.contains("♥ Ass Asser")).await;
    fill(&b, &format!("#post-{post} .comment-form input[name=message]"), XSS_POST).await;
    click(&b, &format!("#post-{post} .comment-form button")).await;
    assert_eq!(wait_text(&b, &format!("#comments-{post} li .text"), |t| !t.is_empty()).await, XSS_POST);
    // Its author may remove it; it goes without a reload, and for good.
    click(&b, &format!("#comments-{post} li .remove-comment summary")).await;
    click(&b, &format!("#comments-{post} li .remove-comment button.danger")).await;
    for _ in 0..100 {
        if b.find_all(Locator::Css(&format!("#comments-{post} li"))).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(b.find_all(Locator::Css(&format!("#comments-{post} li"))).await.unwrap().is_empty());
    b.refresh().await.unwrap();
    wait_visible(&b, &format!("#post-{post}")).await;
    assert!(b.find_all(Locator::Css(&format!("#comments-{post} li"))).await.unwrap().is_empty());
    fill(&b, &format!("#post-{post} .comment-form input[name=message]"), XSS_POST).await;
    click(&b, &format!("#post-{post} .comment-form button")).await;
    wait_text(&b, &format!("#comments-{post} li .text"), |t| t == XSS_POST).await;
    screenshot(&a, "live-like").await;

    // B writes to A: the first message from the profile, the next ones live in A's open chat.
    click(&b, ".actions a.button").await;
    wait_for_path(&b, "/app/messenger/with/").await;
    fill(&b, "#send-box textarea", "Hello from B").await;
    click(&b, "#send-box button").await;
    // The first message made the chat; the page moved to it.
    wait_visible(&b, "#chat[data-chat-id]").await;
    wait_text(&b, "#messages li.mine .text", |t| t == "Hello from B").await;
    wait_text(&a, "#toasts", |t| t.contains("Ass Asser: Hello from B")).await;
    click(&a, "nav.menu a[href='/app/messenger']").await;
    wait_text(&a, "#chat-list", |t| t.contains("Hello from B")).await;
    assert_eq!(wait_text(&a, "#chat-list .badge.unread", |t| !t.is_empty()).await, "1", "one unread");
    click(&a, "#chat-list li a").await;
    wait_text(&a, "#messages li .text", |t| t == "Hello from B").await;
    wait_live(&a).await;
    wait_live(&b).await;
    fill(&b, "#send-box textarea", XSS_NAME).await;
    // Enter sends.
    press_enter(&b, "#send-box textarea").await;
    wait_text(&a, "#messages li:last-child .text", |t| t == XSS_NAME).await;
    assert!(a.find_all(Locator::Css("#messages img")).await.unwrap().is_empty(), "text, not markup");
    // Read as it arrived: the open chat has no unread count, after the list reloaded too.
    wait_text(&a, "#chat-list", |t| t.contains("img src=x")).await;
    assert!(a.find_all(Locator::Css("#chat-list .badge.unread")).await.unwrap().is_empty());
    screenshot(&a, "messenger").await;
    screenshot(&b, "messenger-other-side").await;

    // A accepts drugtester, who is offline; the dot turns on when he logs in elsewhere.
    a.goto(&format!("{base}/app/users/{DRUGTESTER}")).await.unwrap();
    click(&a, &format!("#friendship-{DRUGTESTER} button.primary")).await;
    wait_text(&a, &format!("#friendship-{DRUGTESTER} .state"), |t| t == "Your friend").await;
    a.refresh().await.unwrap();
    wait_live(&a).await;
    let dot = format!(".profile [data-presence='{DRUGTESTER}']");
    assert!(!attr(&a, &dot, "class").await.unwrap_or_default().split(' ').any(|c| c == "on"));
    click(&b, "form.logout button").await;
    wait_for_path(&b, "/app/login").await;
    log_in(&b, &base, "drugtester", PASSWORD).await;
    for _ in 0..100 {
        let class = attr(&a, &dot, "class").await.unwrap_or_default();
        if class.split(' ').any(|c| c == "on") {
            // Visible: a green dot has a size and a colour.
            let colour = on(&a, &dot, async |e| e.css_value("background-color").await).await;
            assert_ne!(colour, "rgba(0, 0, 0, 0)");
            screenshot(&a, "online-dot").await;
            a.goto(&format!("{base}/app/friends")).await.unwrap();
            wait_text(&a, ".people", |t| t.contains("Ilya Blinkov")).await;
            screenshot(&a, "friends").await;
            a.close().await.unwrap();
            b.close().await.unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the online dot never turned on");
}

/// A message is read, answered by someone typing, edited and removed (the last two from its
/// author's own menu): both browsers show each at once — the read ticks, "is typing…" fading by
/// itself, the "edited" mark — without a reload.
#[tokio::test]
async fn a_message_read_edited_and_removed_changes_live_in_both_browsers() {
    use support::seed::{PASSWORD, TEST_TESTER};
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver_a, a) = browser().await;
    let (_driver_b, b) = browser().await;
    log_in(&a, &base, "test_tester", PASSWORD).await;
    log_in(&b, &base, "ass_asser", PASSWORD).await;

    // B writes to A from A's profile; A opens the chat.
    b.goto(&format!("{base}/app/users/{TEST_TESTER}")).await.unwrap();
    click(&b, ".actions a.button").await;
    wait_for_path(&b, "/app/messenger/with/").await;
    fill(&b, "#send-box textarea", "Helo from B").await;
    click(&b, "#send-box button").await;
    wait_visible(&b, "#chat[data-chat-id]").await;
    let item = attr(&b, "#messages li.mine", "id").await.expect("the message's id");
    let item = format!("#{item}");
    wait_live(&b).await;
    assert_eq!(visible_text(&b, &format!("{item} .ticks")).await, "✓", "sent, not read");
    click(&a, "nav.menu a[href='/app/messenger']").await;
    click(&a, "#chat-list li a").await;
    wait_text(&a, &format!("{item} .text"), |t| t == "Helo from B").await;
    // A opened the chat: B's ticks turn to read.
    wait_text(&b, &format!("{item} .ticks.read"), |t| t == "✓✓").await;
    screenshot(&b, "message-read").await;

    // A types an answer: B sees it, and it fades by itself once A stops.
    fill(&a, "#send-box textarea", "Hi B").await;
    wait_text(&b, "#typing", |t| t == "Test is typing…").await;
    screenshot(&b, "typing").await;
    wait_text(&b, "#typing", str::is_empty).await;
    assert_eq!(visible_text(&a, "#typing").await, "", "never to the typist");
    assert!(a.find_all(Locator::Css(&format!("{item} .ticks"))).await.unwrap().is_empty(), "ticks are the author's");
    assert!(a.find_all(Locator::Css(&format!("{item} .message-actions"))).await.unwrap().is_empty(), "not A's");
    wait_live(&a).await;
    wait_live(&b).await;

    // Edited in place by B; A sees the new text and the mark.
    click(&b, &format!("{item} .message-actions summary")).await;
    fill(&b, &format!("{item} form.edit textarea"), "Hello from B").await;
    click(&b, &format!("{item} form.edit button")).await;
    wait_text(&b, &format!("{item} .text"), |t| t == "Hello from B").await;
    wait_text(&b, &format!("{item} .meta .edited"), |t| t == "edited").await;
    wait_text(&a, &format!("{item} .text"), |t| t == "Hello from B").await;
    wait_text(&a, &format!("{item} .meta .edited"), |t| t == "edited").await;
    wait_text(&a, "#chat-list", |t| t.contains("Hello from B")).await;
    screenshot(&a, "message-edited").await;

    // Removed by B: gone from both, and from A's chat list (it was the chat's only message).
    click(&b, &format!("{item} .remove-message summary")).await;
    click(&b, &format!("{item} .remove-message button.danger")).await;
    for client in [&b, &a] {
        for _ in 0..100 {
            if client.find_all(Locator::Css(&item)).await.unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(client.find_all(Locator::Css(&item)).await.unwrap().is_empty(), "{item} is still shown");
    }
    wait_text(&a, "#chat-list", |t| !t.contains("Hello from B")).await;
    a.refresh().await.unwrap();
    wait_live(&a).await;
    assert!(a.find_all(Locator::Css(&item)).await.unwrap().is_empty(), "and for good");
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// The network drops under an open chat (a TCP proxy between the browser and the server is cut)
/// while a message and a like arrive; when it comes back the page resumes its socket: both show
/// without reloading anything — the history on screen is the same elements, with the new message
/// added after them.
#[tokio::test]
async fn a_cut_connection_resumes_and_loses_nothing_on_screen() {
    use support::seed::{ASSER_SESSION, PASSWORD, TEST_TESTER, TESTER_POST_ON_DRUG};
    let db = compat_database().await;
    let (_server, direct) = serve(&db).await;
    let (proxy_port, network) = support::cuttable_proxy(direct.trim_start_matches("http://"));
    let base = format!("http://127.0.0.1:{proxy_port}");
    let asser = |path: &str, body: serde_json::Value| {
        let request = reqwest::Client::new().post(format!("{direct}{path}")).header("X-Auth-Session-Id", ASSER_SESSION);
        async move {
            let answer: serde_json::Value = request.json(&body).send().await.unwrap().json().await.unwrap();
            assert_eq!(answer["ok"], true, "{answer}");
            answer["data"].clone()
        }
    };
    asser("/conversations/send-message", serde_json::json!({"recipientId": TEST_TESTER, "text": "Before"})).await;

    let (_driver, a) = browser().await;
    log_in(&a, &base, "test_tester", PASSWORD).await;
    click(&a, "nav.menu a[href='/app/messenger']").await;
    click(&a, "#chat-list li a").await;
    wait_text(&a, "#messages li:last-child .text", |t| t == "Before").await;
    wait_live(&a).await;
    // A mark on what is on screen: a reload of the history would replace the element.
    a.execute("document.querySelector('#messages li').dataset.probe = 'kept';", vec![]).await.unwrap();

    network.send_replace(support::Link::Cut);
    wait_visible(&a, "body[data-live=off]").await;
    asser("/conversations/send-message", serde_json::json!({"recipientId": TEST_TESTER, "text": "While you were out"}))
        .await;
    let like = asser("/like/post", serde_json::json!({"id": TESTER_POST_ON_DRUG})).await;
    assert_eq!(like["liked"], true, "{like}");
    network.send_replace(support::Link::Up);

    wait_text(&a, "#messages li:last-child .text", |t| t == "While you were out").await;
    wait_text(&a, "#toasts", |t| t.contains("♥ Ass Asser")).await;
    wait_live(&a).await;
    assert_eq!(
        attr(&a, "#messages li", "data-probe").await.as_deref(),
        Some("kept"),
        "resumed, not reloaded: the history on screen is the same"
    );
    assert_eq!(a.find_all(Locator::Css("#messages li")).await.unwrap().len(), 2, "each message once");
    screenshot(&a, "resumed").await;
    a.close().await.unwrap();
}

/// A group chat from the messenger: created with a friend, renamed, joined by another, written
/// in, left.
#[tokio::test]
async fn a_group_chat_from_create_to_leave() {
    use support::seed::{PASSWORD, SANAL, TOLBER};
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    log_in(&a, &base, "test_tester", PASSWORD).await;

    click(&a, "nav.menu a[href='/app/messenger']").await;
    fill(&a, ".group-form input[name=title]", "Weekend").await;
    click(&a, &format!(".group-form input[value='{SANAL}']")).await;
    click(&a, ".group-form button").await;
    assert_eq!(wait_text(&a, "#chat-title", |t| !t.is_empty()).await, "Weekend");
    wait_text(&a, "#chat-list", |t| t.contains("Weekend")).await;

    click(&a, "details.group-settings summary").await;
    fill(&a, "details.group-settings input[name=title]", "Weekend plans").await;
    click(&a, "details.group-settings form[action$='/rename'] button").await;
    assert_eq!(wait_text(&a, "#chat-title", |t| t != "Weekend").await, "Weekend plans");

    click(&a, "details.group-settings summary").await;
    on(&a, "details.group-settings select[name=user]", async |e| e.select_by_value(TOLBER).await).await;
    click(&a, "details.group-settings form[action$='/members'] button").await;
    click(&a, "details.group-settings summary").await;
    wait_text(&a, "details.group-settings .members", |t| t.contains("Tolber") && t.contains("Sanal")).await;

    wait_live(&a).await;
    fill(&a, "#send-box textarea", "See you on Saturday").await;
    press_enter(&a, "#send-box textarea").await;
    wait_text(&a, "#messages li.mine .text", |t| t == "See you on Saturday").await;
    screenshot(&a, "group-chat").await;

    a.execute("document.querySelector('details.group-settings').open = true;", vec![]).await.unwrap();
    click(&a, "details.group-settings .leave-group summary").await;
    click(&a, "details.group-settings .leave-group button.danger").await;
    wait_for_path(&a, "/app/messenger").await;
    wait_visible(&a, ".group-form").await;
    let list = wait_text(&a, "#chat-list", |_| true).await;
    assert!(!list.contains("Weekend plans"), "left: {list}");
    a.close().await.unwrap();
}

/// A command of the JSON API as the holder of `session`, which must succeed: its `data`.
async fn api(base: &str, session: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let request = reqwest::Client::new().post(format!("{base}{path}")).header("X-Auth-Session-Id", session);
    let answer: serde_json::Value = request.json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["ok"], true, "{path}: {answer}");
    answer["data"].clone()
}

/// In a group, the number beside the author's read ticks follows the others' reading live, as
/// the server counts it: each member once for a message, however often their read mark moves
/// over it, and never the author.
#[tokio::test]
async fn a_group_message_counts_its_readers_live() {
    use serde_json::json;
    use support::seed::{ASS_ASSER, DRUGTESTER, PASSWORD, SESSION};
    let db = compat_database().await;
    // The running clock: under the frozen one, messages tie on their time and are shown in the
    // order of their random ids, not in the order they were sent (and read).
    let (_server, base) = support::server::serve_with(&db, &[("APP_ENV", "dev".into())]).await;
    let signed_in: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/login"))
        .json(&json!({"nick": "drugtester", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let drugtester = signed_in["data"]["session"]["sessionId"].as_str().expect("a session").to_owned();

    // test_tester's group with ass_asser and drugtester; drugtester reads the first message only.
    let members = json!({"title": "Reading club", "memberIds": [ASS_ASSER, DRUGTESTER]});
    let chat = api(&base, SESSION, "/chats/create-group", members).await["id"].as_str().unwrap().to_owned();
    // test_tester sends through the API (no page of his reloads its history after it): the
    // message's element on his pages.
    let send = async |text: &str| {
        api(&base, SESSION, "/conversations/send-message", json!({"chatId": chat, "text": text})).await;
        let request = reqwest::Client::new().get(format!("{base}/chats/{chat}")).header("X-Auth-Session-Id", SESSION);
        let shown: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
        format!("#msg-{}", shown["data"]["lastMessage"]["id"].as_str().expect("the newest message"))
    };
    let first = send("First").await;
    api(&base, &drugtester, "/chats/read", json!({"chatId": chat})).await;
    let second = send("Second").await;

    let (_driver_a, a) = browser().await;
    let (_driver_b, b) = browser().await;
    log_in(&a, &base, "test_tester", PASSWORD).await;
    a.goto(&format!("{base}/app/messenger/{chat}")).await.unwrap();
    wait_text(&a, &format!("{second} .text"), |t| t == "Second").await;
    wait_live(&a).await;
    assert_eq!(visible_text(&a, &format!("{first} .ticks.read")).await, "✓✓", "read by one");
    assert_eq!(visible_text(&a, &format!("{second} .ticks")).await, "✓", "by nobody yet");

    // ass_asser opens the chat: both messages are read by one more.
    log_in(&b, &base, "ass_asser", PASSWORD).await;
    b.goto(&format!("{base}/app/messenger/{chat}")).await.unwrap();
    wait_text(&a, &format!("{first} .ticks"), |t| t == "✓✓ 2").await;
    wait_text(&a, &format!("{second} .ticks.read"), |t| t == "✓✓").await;
    screenshot(&a, "group-read-by").await;

    // drugtester reads again: the second message gains him, the first (read already) does not.
    api(&base, &drugtester, "/chats/read", json!({"chatId": chat})).await;
    wait_text(&a, &format!("{second} .ticks"), |t| t == "✓✓ 2").await;
    assert_eq!(visible_text(&a, &format!("{first} .ticks")).await, "✓✓ 2", "counted once");

    // A message that arrived live counts the same way; the author's own page reading it does not.
    wait_live(&b).await;
    let third = send("Third").await;
    wait_text(&b, &format!("{third} .text"), |t| t == "Third").await;
    wait_text(&a, &format!("{third} .ticks.read"), |t| t == "✓✓").await;
    api(&base, &drugtester, "/chats/read", json!({"chatId": chat})).await;
    wait_text(&a, &format!("{third} .ticks"), |t| t == "✓✓ 2").await;
    for message in [&first, &second] {
        assert_eq!(visible_text(&a, &format!("{message} .ticks")).await, "✓✓ 2", "{message} counted once");
    }

    // What the page counted is what the server counts.
    a.refresh().await.unwrap();
    wait_live(&a).await;
    for message in [&first, &second, &third] {
        assert_eq!(visible_text(&a, &format!("{message} .ticks")).await, "✓✓ 2", "{message} after a reload");
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// A person's "last seen" line on their page follows their presence live, in the viewer's
/// language: it says they are online once they sign in elsewhere.
#[tokio::test]
async fn a_profile_shows_its_person_come_online_live() {
    use support::seed::{DRUGTESTER, PASSWORD, SESSION};
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    // Presence goes to friends: test_tester takes drugtester's waiting request.
    api(&base, SESSION, "/friendship/accept-request", serde_json::json!({"requesterId": DRUGTESTER})).await;
    let (_driver_a, a) = browser().await;
    let (_driver_b, b) = browser().await;

    log_in(&a, &base, "test_tester", PASSWORD).await;
    a.goto(&format!("{base}/app/users/{DRUGTESTER}")).await.unwrap();
    click_link(&a, "Русский").await;
    let line = format!(".profile [data-presence-text='{DRUGTESTER}']");
    // The time as the browser writes it in its zone and language: a day of another year.
    wait_text(&a, &line, |t| t.starts_with("был(а) в сети 10 августа 2024")).await;
    wait_live(&a).await;

    log_in(&b, &base, "drugtester", PASSWORD).await;
    wait_text(&a, &line, |t| t == "в сети").await;
    wait_class(&a, &format!(".profile [data-presence='{DRUGTESTER}']"), "on").await;
    screenshot(&a, "profile-came-online").await;
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// What the server refuses or ends reaches the person at the browser: a write over the limit
/// shows a toast instead of vanishing, and a session ended elsewhere (here: its logout through the
/// API, as from another tab) takes the page to the login form through the socket's 4001 close.
#[tokio::test]
async fn a_refused_write_says_so_and_a_session_ended_elsewhere_leaves_for_the_login_page() {
    use support::seed::PASSWORD;
    let db = compat_database().await;
    // One write, then one per 1,000 seconds: the second like is refused whatever the timing.
    let (_server, base) = support::server::serve_with(&db, &[("NOSEBOOK_LIMIT_WRITES", "0.001,1".into())]).await;
    let (_driver, a) = browser().await;
    let my_page = log_in(&a, &base, "test_tester", PASSWORD).await;
    assert!(my_page.starts_with("/app/users/"));

    click(&a, "article.post form.like button").await;
    wait_class(&a, "article.post form.like button", "on").await;
    click(&a, "article.post form.like button").await;
    assert_eq!(wait_text(&a, "#toasts .toast", |t| !t.is_empty()).await, "Slow down");

    let cookie = a.get_named_cookie("nosebook_session").await.unwrap();
    let session = cookie.value().split(':').next().unwrap().to_owned();
    let ended = reqwest::Client::new()
        .post(format!("{base}/logout"))
        .header("X-Auth-Session-Id", &session)
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success());
    wait_for_path(&a, "/app/login").await;
    a.close().await.unwrap();
}

/// The browser's side of the close handshake: a socket the page closes ends cleanly (the
/// server answers with a close frame echoing the code), not as 1006 "abnormal closure".
#[tokio::test]
async fn a_socket_the_browser_closes_ends_cleanly() {
    use support::seed::PASSWORD;
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    log_in(&a, &base, "test_tester", PASSWORD).await;
    let closed = a
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const ws = new WebSocket("ws://" + location.host + "/ws");
               ws.onopen = () => ws.close(4000, "bye");
               ws.onclose = (e) => done([e.code, e.wasClean]);"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(closed, serde_json::json!([4000, true]));
    a.close().await.unwrap();
}

/// The README's pictures: the demo people (`nosebook seed demo`, under the frozen clock so the
/// pictures only change when the pages do) as a newcomer would meet them. Anna browses, Boris is
/// the friend who comes online, likes her post and writes to her.
#[tokio::test]
async fn the_demo_people_for_the_readme() {
    const PASSWORD: &str = "nosebook-demo";
    let db = support::fresh_database().await;
    let seeded = Command::new(BIN).args(["seed", "demo"]).env("DATABASE_URL", &db).env("APP_ENV", "testing").status();
    assert!(seeded.unwrap().success());
    let (_server, base) = serve(&db).await;
    let (_driver_a, anna) = browser().await;
    let (_driver_b, boris) = browser().await;

    anna.goto(&base).await.unwrap();
    wait_for_path(&anna, "/app/login").await;
    fill(&anna, "nick", "anna").await;
    readme_screenshot(&anna, "login").await;
    click_link(&anna, "Sign up").await;
    wait_for_path(&anna, "/app/signup").await;
    fill(&anna, "first_name", "Frank").await;
    click(&anna, "button[type=submit].primary").await;
    assert_eq!(visible_text(&anna, "#field-nick-error").await, "Required");
    readme_screenshot(&anna, "signup-errors").await;

    let anna_page = log_in(&anna, &base, "anna", PASSWORD).await;
    wait_text(&anna, "#posts", |t| t.contains("Coffee on Friday?")).await;
    readme_screenshot(&anna, "profile").await;
    viewport(&anna, (390, 844)).await;
    anna.refresh().await.unwrap();
    wait_visible(&anna, ".profile h1").await;
    readme_screenshot(&anna, "profile-phone").await;
    window_resized_to(&anna, (1200, 900), None).await;
    anna.goto(&format!("{base}/app/news")).await.unwrap();
    wait_live(&anna).await;
    wait_visible(&anna, "#posts .post").await;
    readme_screenshot(&anna, "news").await;

    fill(&anna, "form.search input", "bo").await;
    wait_text(&anna, "#search-results .people", |t| t.contains("Boris Volkov")).await;
    readme_screenshot(&anna, "search").await;
    click_link(&anna, "Boris Volkov").await;
    wait_text(&anna, ".profile h1", |t| t.contains("Boris Volkov")).await;
    let boris_id = wait_for_path(&anna, "/app/users/").await.trim_start_matches("/app/users/").to_owned();
    wait_live(&anna).await;

    // Boris comes online while Anna looks at his page.
    log_in(&boris, &base, "boris", PASSWORD).await;
    let dot = format!(".profile [data-presence='{boris_id}']");
    wait_class(&anna, &dot, "on").await;
    readme_screenshot(&anna, "online-dot").await;
    click_link(&anna, "Русский").await;
    assert_eq!(visible_text(&anna, "nav.menu a.my-page").await, "Моя страница");
    readme_screenshot(&anna, "someone-else-ru").await;
    click_link(&anna, "English").await;
    assert_eq!(visible_text(&anna, "nav.menu a.my-page").await, "My page");
    readme_screenshot(&anna, "someone-else").await;

    // Anna posts; Boris likes it and she sees it at once.
    anna.goto(&format!("{base}{anna_page}")).await.unwrap();
    wait_live(&anna).await;
    fill(&anna, ".compose textarea", "Baked a honey cake today. Come over tonight, there is plenty!").await;
    click(&anna, ".compose button").await;
    wait_text(&anna, "#posts .post .text", |t| t.starts_with("Baked a honey cake")).await;
    let post = attr(&anna, "#posts .post", "id").await.unwrap();
    boris.goto(&format!("{base}{anna_page}")).await.unwrap();
    wait_live(&boris).await;
    click(&boris, &format!("#{post} form.like button")).await;
    wait_text(&anna, "#toasts", |t| t.contains("♥ Boris Volkov")).await;
    wait_text(&anna, &format!("#{post} .count"), |t| t == "1").await;
    readme_screenshot(&anna, "live-like").await;

    // Boris answers in their chat; it arrives in Anna's open chat.
    click(&anna, "nav.menu a[href='/app/messenger']").await;
    click(&anna, "#chat-list li a").await;
    wait_text(&anna, "#messages li:last-child .text", |t| t == "Of course! 7 pm.").await;
    wait_live(&anna).await;
    click(&boris, "nav.menu a[href='/app/messenger']").await;
    click(&boris, "#chat-list li a").await;
    wait_live(&boris).await;
    fill(&boris, "#send-box textarea", "I'll bring the tea. Save me a slice of that cake!").await;
    press_enter(&boris, "#send-box textarea").await;
    wait_text(&anna, "#messages li:last-child .text", |t| t.starts_with("I'll bring the tea")).await;
    readme_screenshot(&anna, "messenger").await;
    // The same chat on a phone: a screen of its own, the message box in view.
    viewport(&anna, (390, 844)).await;
    anna.refresh().await.unwrap();
    wait_text(&anna, "#messages li:last-child .text", |t| t.starts_with("I'll bring the tea")).await;
    wait_visible(&anna, "#send-box textarea").await;
    readme_screenshot(&anna, "messenger-phone").await;
    window_resized_to(&anna, (1200, 900), None).await;

    anna.goto(&format!("{base}/app/friends")).await.unwrap();
    wait_text(&anna, ".people", |t| t.contains("Boris Volkov") && t.contains("Chloe Martin")).await;
    readme_screenshot(&anna, "friends").await;

    // A group chat with both her friends.
    click(&anna, "nav.menu a[href='/app/messenger']").await;
    fill(&anna, ".group-form input[name=title]", "Weekend hike").await;
    click(&anna, ".group-form label.check:nth-of-type(1) input").await;
    click(&anna, ".group-form label.check:nth-of-type(2) input").await;
    click(&anna, ".group-form button").await;
    assert_eq!(wait_text(&anna, "#chat-title", |t| !t.is_empty()).await, "Weekend hike");
    wait_live(&anna).await;
    fill(&anna, "#send-box textarea", "Chloe, which trail was the 23 km one? Let's all go on Saturday.").await;
    press_enter(&anna, "#send-box textarea").await;
    wait_text(&anna, "#messages li.mine .text", |t| t.starts_with("Chloe, which trail")).await;
    readme_screenshot(&anna, "group-chat").await;

    // Settings: Anna is also signed in on her phone, and sees both sessions.
    let phone = reqwest::Client::new()
        .post(format!("{base}/login"))
        .header("User-Agent", "Nosebook for Android 2.4 (Pixel 8)")
        .json(&serde_json::json!({"nick": "anna", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(phone.status().is_success());
    click(&anna, "nav.menu a[href='/app/settings']").await;
    wait_text(&anna, "#sessions", |t| t.contains("Nosebook for Android") && t.contains("this device")).await;
    readme_screenshot(&anna, "settings").await;

    anna.close().await.unwrap();
    boris.close().await.unwrap();
}

/// Waits until the first element matching `css` has the class `class`.
async fn wait_class(client: &Client, css: &str, class: &str) {
    for _ in 0..100 {
        if attr(client, css, "class").await.unwrap_or_default().split(' ').any(|c| c == class) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never got the class {class}");
}

/// As [`browser`], in another time zone: Chromium takes its zone from the `TZ` of its process,
/// which chromedriver passes on.
async fn browser_in(zone: &str) -> (Driver, Client) {
    browser_with(Some(zone)).await
}

/// Makes the page's viewport (`innerWidth` × `innerHeight`) `width` × `height`: the window
/// around it may be larger by the browser's own frame, which is measured and added.
async fn viewport(client: &Client, (width, height): (u32, u32)) {
    let first = window_resized_to(client, (width, height), None).await;
    if first != (width, height) {
        let framed = (width + (width - first.0.min(width)), height + (height - first.1.min(height)));
        window_resized_to(client, framed, Some((width, height))).await;
    }
    assert_eq!(inner_size(client).await, (width, height), "the viewport");
}

async fn inner_size(client: &Client) -> (u32, u32) {
    let inner = client.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.unwrap();
    (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32)
}

/// Sets the window's size and waits until the page sees the resize, which reaches it after the
/// WebDriver has answered: until the viewport is `expected`, or else until it differs from
/// before (a window that already had that size is waited for a bounded time). Answers the
/// viewport then.
async fn window_resized_to(client: &Client, size: (u32, u32), expected: Option<(u32, u32)>) -> (u32, u32) {
    let before = inner_size(client).await;
    let (_, _, width, height) = client.get_window_rect().await.unwrap();
    if (width, height) == (u64::from(size.0), u64::from(size.1)) && expected.is_none_or(|e| e == before) {
        return before;
    }
    client.set_window_size(size.0, size.1).await.unwrap();
    let mut now = before;
    for _ in 0..100 {
        now = inner_size(client).await;
        match expected {
            Some(expected) if now == expected => return now,
            None if now != before => return now,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    assert!(expected.is_none(), "the viewport never became {expected:?} in a window of {size:?}: {now:?}");
    now
}

/// Signs `nick` in through the JSON API, which must succeed: its `data` (the user and the session).
async fn api_login(base: &str, nick: &str, password: &str) -> serde_json::Value {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/login"))
        .json(&serde_json::json!({"nick": nick, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ok"], true, "{nick}: {answer}");
    answer["data"].clone()
}
