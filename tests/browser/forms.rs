//! What forms, times and messages tell people: words for every refusal, times in the viewer's
//! zone, the page you came for after signing in.

#[allow(unused_imports)]
use super::*;

/// Waits until nothing on the page matches `css`.
async fn wait_gone(client: &Client, css: &str) {
    for _ in 0..100 {
        if client.find_all(Locator::Css(css)).await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} is still there");
}

/// Signs `nick` in through the JSON API: the session id.
async fn api_session(base: &str, nick: &str) -> String {
    let data = api_login(base, nick, support::seed::PASSWORD).await;
    data["session"]["sessionId"].as_str().expect("a session").to_owned()
}

/// Runs one SQL statement on the test database (to move something into the past).
async fn sql(db: &str, statement: &str) {
    use diesel_async::RunQueryDsl;
    let mut conn = support::connect(db).await;
    diesel::sql_query(statement).execute(&mut conn).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// `HH:MM` of `at` in Vladivostok (UTC+10 all year).
fn vladivostok_clock(at: chrono::DateTime<chrono::Utc>) -> String {
    let zone = chrono::FixedOffset::east_opt(10 * 3600).unwrap();
    at.with_timezone(&zone).format("%H:%M").to_string()
}

/// A browser in Vladivostok sees times in its own zone: a message that just arrived at the
/// local clock time under a "Today" line, yesterday's under "Yesterday"; posts say "just now",
/// "5 min ago", "yesterday at 19:19" — in Russian too, and for what arrives live.
#[tokio::test]
async fn times_show_in_the_viewer_s_zone_relative_when_recent_with_days_in_chats() {
    use chrono::{Duration as Span, Utc};
    use support::seed::{PASSWORD, TEST_TESTER};
    let db = compat_database().await;
    // The running clock: "just now" is about now.
    let (_server, base) = support::server::serve_with(&db, &[("APP_ENV", "dev".into())]).await;
    let asser = api_session(&base, "ass_asser").await;
    api(
        &base,
        &asser,
        "/conversations/send-message",
        serde_json::json!({"recipientId": TEST_TESTER, "text": "Last night"}),
    )
    .await;
    let yesterday = chrono::DurationRound::duration_trunc(Utc::now() - Span::days(1), Span::seconds(1)).unwrap();
    sql(&db, &format!("UPDATE messages SET created_at = '{}' WHERE text = 'Last night'", yesterday.to_rfc3339())).await;
    api(
        &base,
        &asser,
        "/conversations/send-message",
        serde_json::json!({"recipientId": TEST_TESTER, "text": "Good morning"}),
    )
    .await;
    let sent = Utc::now();

    let (_driver, a) = browser_in("Asia/Vladivostok").await;
    log_in(&a, &base, "test_tester", PASSWORD).await;
    click(&a, "nav.menu a[href='/app/messenger']").await;
    click(&a, "#chat-list li a").await;
    wait_text(&a, "#messages li.message:last-child .text", |t| t == "Good morning").await;
    let now_here = [vladivostok_clock(sent - Span::minutes(1)), vladivostok_clock(sent), vladivostok_clock(Utc::now())];
    let shown = wait_text(&a, "#messages li.message:last-child .meta time", |t| !t.contains("UTC")).await;
    assert!(now_here.contains(&shown), "the local clock ({now_here:?}), not UTC: {shown}");
    let days: Vec<String> = a
        .execute("return [...document.querySelectorAll('#messages .day')].map(d => d.textContent);", vec![])
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(days, ["Yesterday", "Today"], "one line per day, not a date on each message");
    assert_eq!(
        visible_text(&a, "#messages li.message:first-child .meta time").await,
        vladivostok_clock(yesterday),
        "yesterday's message at its local time"
    );
    screenshot(&a, "times-chat").await;

    // One arriving live is shown the same way.
    api(
        &base,
        &asser,
        "/conversations/send-message",
        serde_json::json!({"recipientId": TEST_TESTER, "text": "Live one"}),
    )
    .await;
    wait_text(&a, "#messages li.message:last-child .text", |t| t == "Live one").await;
    let live = wait_text(&a, "#messages li.message:last-child .meta time", |t| !t.contains("UTC")).await;
    assert!(live.len() == 5 && live.contains(':'), "a clock time: {live}");
    assert_eq!(a.find_all(Locator::Css("#messages .day")).await.unwrap().len(), 2, "still one line per day");

    // Posts: one just written, one five minutes old, one from yesterday.
    click(&a, "nav.menu a.my-page").await;
    wait_for_path(&a, "/app/users/").await;
    fill(&a, ".compose textarea", "Fresh post").await;
    click(&a, ".compose button").await;
    wait_text(&a, "#posts .post:first-child .text", |t| t == "Fresh post").await;
    assert_eq!(wait_text(&a, "#posts .post:first-child header time", |t| !t.contains("UTC")).await, "just now");
    for (text, ago) in [("Five minutes", Span::seconds(5 * 60 + 10)), ("A day", Span::days(1))] {
        api(&base, &asser, "/posts/publish", serde_json::json!({"ownerId": TEST_TESTER, "message": text})).await;
        let at = (Utc::now() - ago).to_rfc3339();
        sql(&db, &format!("UPDATE posts SET created_at = '{at}' WHERE message = '{text}'")).await;
    }
    let yesterday_post = Utc::now() - Span::days(1);
    a.refresh().await.unwrap();
    let time_of = |text: &'static str| {
        format!(
            "return [...document.querySelectorAll('#posts .post')].find(p => p.querySelector('.text').textContent === '{text}').querySelector('header time').textContent;"
        )
    };
    let read = async |text: &'static str| a.execute(&time_of(text), vec![]).await.unwrap().as_str().unwrap().to_owned();
    wait_text(&a, "#posts .post header time", |t| !t.contains("UTC")).await;
    assert_eq!(read("Five minutes").await, "5 min ago");
    let clocks = [vladivostok_clock(yesterday_post - Span::minutes(1)), vladivostok_clock(yesterday_post)];
    let day = read("A day").await;
    assert!(clocks.iter().any(|c| day == format!("yesterday at {c}")), "{day}, expected yesterday at {clocks:?}");
    screenshot(&a, "times-wall").await;

    // In Russian.
    click_link(&a, "Русский").await;
    wait_text(&a, "#posts .post header time", |t| !t.contains("UTC")).await;
    assert_eq!(read("Five minutes").await, "5 мин назад");
    let day = read("A day").await;
    assert!(clocks.iter().any(|c| day == format!("вчера в {c}")), "{day}");
    a.close().await.unwrap();
}

/// A post can be taken back by its author and by the owner of the wall it is on, after saying
/// yes to a question; without script the form posts and the wall comes back. Nobody else gets
/// the button.
#[tokio::test]
async fn a_post_can_be_removed_by_its_author_and_the_wall_s_owner_after_a_confirmation() {
    use support::seed::{ASSER_POST, DRUG_POST_ON_TESTER, DRUGTESTER, PASSWORD, TEST_TESTER};
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    let my_page = log_in(&a, &base, "test_tester", PASSWORD).await;

    // drugtester's post on test_tester's wall: the owner may remove it, once they say yes.
    let theirs = format!("#post-{DRUG_POST_ON_TESTER}");
    click(&a, &format!("{theirs} .remove-post summary")).await;
    let question = visible_text(&a, &format!("{theirs} .remove-post .confirm")).await;
    assert!(question.contains("Remove this post?"), "{question}");
    screenshot(&a, "remove-post-confirm").await;
    click(&a, &format!("{theirs} .remove-post button.danger")).await;
    wait_gone(&a, &theirs).await;
    assert_eq!(a.current_url().await.unwrap().path(), my_page);

    // One's own post.
    fill(&a, ".compose textarea", "Mine to take back").await;
    click(&a, ".compose button").await;
    wait_text(&a, "#posts .post .text", |t| t == "Mine to take back").await;
    click(&a, "#posts .post .remove-post summary").await;
    click(&a, "#posts .post .remove-post button.danger").await;
    wait_gone(&a, "#posts .post").await;
    a.refresh().await.unwrap();
    let wall = wait_text(&a, "#posts", |_| true).await;
    assert!(!wall.contains("Mine to take back"), "for good: {wall}");
    assert!(a.find_all(Locator::Css(&theirs)).await.unwrap().is_empty(), "for good");

    // Someone else's post on someone else's wall: no button.
    a.goto(&format!("{base}/app/users/{DRUGTESTER}")).await.unwrap();
    wait_visible(&a, &format!("#post-{ASSER_POST}")).await;
    assert!(a.find_all(Locator::Css(&format!("#post-{ASSER_POST} .remove-post"))).await.unwrap().is_empty());

    // Without script: a plain form post, then the wall again.
    let cookie = a.get_named_cookie("nosebook_session").await.unwrap();
    let cookie = format!("nosebook_session={}", cookie.value());
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(format!("{base}{my_page}")).header("Cookie", &cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    let token = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let id = api(
        &base,
        support::seed::SESSION,
        "/posts/publish",
        serde_json::json!({"ownerId": TEST_TESTER, "message": "plain-form-post"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let removed = http
        .post(format!("{base}/app/posts/{id}/remove"))
        .header("Cookie", &cookie)
        .header("Referer", format!("{base}{my_page}"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 303);
    assert_eq!(removed.headers()["location"], my_page.as_str());
    let page = http.get(format!("{base}{my_page}")).header("Cookie", &cookie).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("plain-form-post"));
    a.close().await.unwrap();
}

/// A refusal says why, where the person is: a post of only spaces gets its reason under the
/// post form; a text file sent as an avatar brings the person back to their page with the reason
/// under the upload button.
#[tokio::test]
async fn a_refused_post_or_avatar_says_why_next_to_its_form() {
    use support::seed::PASSWORD;
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    let my_page = log_in(&a, &base, "test_tester", PASSWORD).await;

    let posts_before = a.find_all(Locator::Css("#posts .post")).await.unwrap().len();
    fill(&a, ".compose textarea", "   ").await;
    click(&a, ".compose button").await;
    assert_eq!(wait_text(&a, ".compose .error", |t| !t.is_empty()).await, "Write something first");
    assert_eq!(a.current_url().await.unwrap().path(), my_page);
    assert_eq!(a.find_all(Locator::Css("#posts .post")).await.unwrap().len(), posts_before);
    screenshot(&a, "post-empty").await;
    // Written again, it goes, and the reason with it.
    fill(&a, ".compose textarea", "Now with words").await;
    click(&a, ".compose button").await;
    wait_text(&a, "#posts .post .text", |t| t == "Now with words").await;
    wait_text(&a, ".compose", |t| !t.contains("Write something first")).await;

    let text_file = std::env::temp_dir().join(format!("nosebook-not-an-image-{}.txt", std::process::id()));
    std::fs::write(&text_file, "just words, no picture").unwrap();
    on(&a, "#avatar-file", async |e| e.send_keys(text_file.to_str().unwrap()).await).await;
    click(&a, ".avatar-form button").await;
    let why = wait_text(&a, ".avatar-form .error", |t| !t.is_empty()).await;
    assert!(why.contains("PNG, JPEG, WebP or GIF"), "{why}");
    assert_eq!(a.current_url().await.unwrap().path(), my_page, "still on their page");
    wait_visible(&a, ".compose textarea").await;
    let _ = std::fs::remove_file(&text_file);
    screenshot(&a, "avatar-refused").await;
    a.close().await.unwrap();
}

/// Sign-up says which nicks are allowed, lets password managers offer a new password, starts in
/// the first field and explains a short password in characters; settings too.
#[tokio::test]
async fn sign_up_and_settings_say_what_is_allowed() {
    use support::seed::PASSWORD;
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    let focused = "return document.activeElement && document.activeElement.name;";

    a.goto(&format!("{base}/app/signup")).await.unwrap();
    wait_visible(&a, "[name=first_name]").await;
    assert_eq!(a.execute(focused, vec![]).await.unwrap(), "first_name", "the first field has the focus");
    assert_eq!(attr(&a, "[name=password]", "autocomplete").await.as_deref(), Some("new-password"));
    fill(&a, "first_name", "New").await;
    fill(&a, "last_name", "Bie").await;
    fill(&a, "nick", "new bie!").await;
    fill(&a, "password", "short").await;
    click(&a, "button[type=submit].primary").await;
    let nick = visible_text(&a, "#field-nick-error").await;
    for allowed in ["3 to 32", "letters", "digits", "_", "."] {
        assert!(nick.contains(allowed), "{allowed:?} in {nick:?}");
    }
    assert_eq!(visible_text(&a, "#field-password-error").await, "At least 8 characters");
    assert_eq!(a.execute(focused, vec![]).await.unwrap(), "nick", "the first field in error has the focus");
    screenshot(&a, "signup-words").await;

    a.goto(&format!("{base}/app/login")).await.unwrap();
    wait_visible(&a, "[name=nick]").await;
    assert_eq!(a.execute(focused, vec![]).await.unwrap(), "nick");
    assert_eq!(attr(&a, "[name=password]", "autocomplete").await.as_deref(), Some("current-password"));

    log_in(&a, &base, "test_tester", PASSWORD).await;
    a.goto(&format!("{base}/app/settings")).await.unwrap();
    fill(&a, "old_password", PASSWORD).await;
    fill(&a, "new_password", "short").await;
    click(&a, "#password-form button").await;
    let why = visible_text(&a, "#password-result").await;
    assert!(why.contains("at least 8 characters") && !why.contains("bytes"), "{why}");
    a.close().await.unwrap();
}

/// Signed out, a page asked for leads to the login form and, once signed in, to that page — a
/// path of this site only: anything else after login leads to one's own page.
#[tokio::test]
async fn after_logging_in_one_lands_on_the_page_one_asked_for_on_this_site_only() {
    use support::seed::PASSWORD;
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    a.goto(&format!("{base}/app/friends?tab=incoming")).await.unwrap();
    wait_for_path(&a, "/app/login").await;
    fill(&a, "nick", "test_tester").await;
    fill(&a, "password", PASSWORD).await;
    click(&a, "button[type=submit].primary").await;
    wait_for_path(&a, "/app/friends").await;
    assert_eq!(a.current_url().await.unwrap().query(), Some("tab=incoming"));
    assert!(visible_text(&a, ".tabs a.current").await.contains("Requests"));
    a.close().await.unwrap();

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let log_in_to = async |next: &str| {
        let answer = http
            .post(format!("{base}/app/login"))
            .form(&[("nick", "test_tester"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303, "{next}");
        answer.headers()["location"].to_str().unwrap().to_owned()
    };
    assert_eq!(log_in_to("/app/messenger").await, "/app/messenger");
    for elsewhere in
        ["//evil.example", "https://evil.example/app", "/\\evil.example", "evil.example", "", "/app\r\nX: y", "\\/evil"]
    {
        let to = log_in_to(elsewhere).await;
        assert_eq!(to, "/app/news", "{elsewhere:?}");
    }
    // The login page does not carry a foreign target into its form either.
    let page = http.get(format!("{base}/app/login?next=%2F%2Fevil.example")).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("evil.example"));
}

/// The login form does not tell whether a nick exists: one answer for an unknown nick and a
/// wrong password. (The JSON API keeps the original's two texts.)
#[tokio::test]
async fn the_login_form_does_not_tell_which_nicks_exist() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    let mut answers = Vec::new();
    for nick in ["nobody_like_this", "test_tester"] {
        a.goto(&format!("{base}/app/login")).await.unwrap();
        fill(&a, "nick", nick).await;
        fill(&a, "password", "not the password").await;
        click(&a, "button[type=submit].primary").await;
        answers.push(visible_text(&a, "#field-password-error").await);
        assert!(a.find_all(Locator::Css("#field-nick-error")).await.unwrap().is_empty(), "{nick}");
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], "Wrong nick or password");
    a.close().await.unwrap();

    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/login"))
        .json(&serde_json::json!({"nick": "nobody_like_this", "password": "whatever1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errors"][0]["type"], "NickError", "{answer}");
}

/// The sessions list reads like a person's devices: browser, system and last activity; this
/// device cannot be signed out from there, all the others at once can; and the browser signed out
/// that way lands on the login page being told so.
#[tokio::test]
async fn sessions_read_as_devices_and_all_others_can_be_signed_out_at_once() {
    use support::seed::PASSWORD;
    let db = compat_database().await;
    // The running clock: "active just now" is about now.
    let (_server, base) = support::server::serve_with(&db, &[("APP_ENV", "dev".into())]).await;
    let phone = reqwest::Client::new()
        .post(format!("{base}/login"))
        .header("User-Agent", "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0")
        .json(&serde_json::json!({"nick": "test_tester", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(phone.status().is_success());
    let (_driver_b, b) = browser().await;
    log_in(&b, &base, "test_tester", PASSWORD).await;
    let (_driver_a, a) = browser().await;
    log_in(&a, &base, "test_tester", PASSWORD).await;

    a.goto(&format!("{base}/app/settings")).await.unwrap();
    let current = visible_text(&a, "#sessions li.session.current").await;
    assert!(current.starts_with("Chrome on Linux"), "{current}");
    assert!(current.contains("active just now") && current.contains("this device"), "{current}");
    assert!(!current.contains("Mozilla"), "no raw User-Agent: {current}");
    assert!(
        a.find_all(Locator::Css("#sessions li.session.current form")).await.unwrap().is_empty(),
        "no sign-out here"
    );
    let all = visible_text(&a, "#sessions").await;
    assert!(all.contains("Firefox on Android"), "{all}");
    assert!(!all.contains("Mozilla/5.0"), "{all}");
    screenshot(&a, "sessions").await;

    click(&a, "#sign-out-others button").await;
    wait_for_path(&a, "/app/settings").await;
    wait_text(&a, "#sessions", |t| !t.contains("Firefox on Android")).await;
    assert_eq!(a.find_all(Locator::Css("#sessions li.session")).await.unwrap().len(), 1, "only this device");

    // The other browser, signed out by that, says why on the login page.
    wait_for_path(&b, "/app/login").await;
    assert_eq!(visible_text(&b, "#signed-out").await, "You were signed out. Log in again to continue.");
    screenshot(&b, "signed-out").await;
    // A later visit to the login page is a plain one.
    b.refresh().await.unwrap();
    wait_visible(&b, "[name=nick]").await;
    assert!(b.find_all(Locator::Css("#signed-out")).await.unwrap().is_empty());
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// Search: Enter in the header box opens the results with the words kept and named; the arrow
/// keys walk the suggestions; a result can be befriended or written to from there.
#[tokio::test]
async fn search_keeps_its_words_walks_by_keyboard_and_offers_friend_and_message() {
    use support::seed::{ASS_ASSER, PASSWORD};
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    log_in(&a, &base, "test_tester", PASSWORD).await;

    // The arrows move from the box into the suggestions and back.
    fill(&a, "form.search input", "ass").await;
    wait_visible(&a, "#search-results .people a.name").await;
    let focus = "return document.activeElement && (document.activeElement.textContent || document.activeElement.name);";
    on(&a, "form.search input", async |e| e.send_keys("\u{E015}").await).await;
    assert_eq!(a.execute(focus, vec![]).await.unwrap(), "Ass Asser", "ArrowDown: the first suggestion");
    let active = a.active_element().await.unwrap();
    active.send_keys("\u{E013}").await.unwrap();
    assert_eq!(a.execute(focus, vec![]).await.unwrap(), "text", "ArrowUp from the first: the box");

    fill(&a, "form.search input", "asser").await;
    press_enter(&a, "form.search input").await;
    wait_for_path(&a, "/app/search").await;
    assert_eq!(on(&a, "form.search input", async |e| e.prop("value").await).await.as_deref(), Some("asser"));
    assert_eq!(visible_text(&a, "main h1").await, "Results for «asser»");
    let row = format!("main .people li[data-user='{ASS_ASSER}']");
    assert!(visible_text(&a, &row).await.contains("Ass Asser"));
    screenshot(&a, "search-results").await;
    click(&a, &format!("{row} .friendship button")).await;
    wait_text(&a, &format!("{row} .friendship .state"), |t| t == "Request sent").await;
    click(&a, &format!("{row} a.message-link")).await;
    wait_for_path(&a, &format!("/app/messenger/with/{ASS_ASSER}")).await;
    a.close().await.unwrap();
}

/// A newcomer's empty pages point somewhere: to people search, to starting a chat; a group of
/// nobody but oneself is refused on its form.
#[tokio::test]
async fn empty_pages_point_the_way_and_a_group_needs_someone_else() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    a.goto(&format!("{base}/app/signup")).await.unwrap();
    fill(&a, "first_name", "New").await;
    fill(&a, "last_name", "Comer").await;
    fill(&a, "nick", "newcomer").await;
    fill(&a, "password", "a long secret").await;
    click(&a, "button[type=submit].primary").await;
    wait_for_path(&a, "/app/users/").await;

    let wall = visible_text(&a, "#posts .empty").await;
    assert!(wall.starts_with("No posts yet"), "{wall}");
    assert!(attr(&a, "#posts .empty a", "href").await.unwrap().starts_with("/app/search"));

    a.goto(&format!("{base}/app/friends")).await.unwrap();
    assert!(visible_text(&a, ".friends .empty").await.starts_with("Nobody here yet"));
    click(&a, ".friends .empty a").await;
    wait_for_path(&a, "/app/search").await;

    a.goto(&format!("{base}/app/messenger")).await.unwrap();
    assert!(visible_text(&a, "#chat-list .empty").await.starts_with("No chats yet"));
    assert!(attr(&a, "#chat-list .empty a", "href").await.unwrap().starts_with("/app/search"));
    screenshot(&a, "empty-messenger").await;

    // A group of one: refused, on the form, with the title kept.
    fill(&a, ".group-form input[name=title]", "Just me").await;
    click(&a, ".group-form button").await;
    let why = visible_text(&a, ".group-form .error").await;
    assert!(why.contains("at least one friend"), "{why}");
    assert_eq!(
        on(&a, ".group-form input[name=title]", async |e| e.prop("value").await).await.as_deref(),
        Some("Just me")
    );
    assert!(visible_text(&a, "#chat-list").await.contains("No chats yet"), "nothing created");
    a.close().await.unwrap();
}

/// One's own message has plain Edit and Remove actions; the edit box fits its text, Enter saves,
/// Shift+Enter breaks the line and Escape gives up; removing a message, a comment or leaving a
/// group asks first.
#[tokio::test]
async fn editing_saves_on_enter_and_removing_or_leaving_asks_first() {
    use support::seed::{ASS_ASSER, LIKED_POST, PASSWORD};
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let (_driver, a) = browser().await;
    log_in(&a, &base, "test_tester", PASSWORD).await;
    a.goto(&format!("{base}/app/messenger/with/{ASS_ASSER}")).await.unwrap();
    fill(&a, "#send-box textarea", "First line").await;
    press_enter(&a, "#send-box textarea").await;
    wait_for_path(&a, "/app/messenger/").await;
    wait_text(&a, "#messages li.mine .text", |t| t == "First line").await;
    wait_live(&a).await;

    let mine = "#messages li.mine";
    assert_eq!(visible_text(&a, &format!("{mine} .message-actions summary")).await, "Edit");
    click(&a, &format!("{mine} .message-actions summary")).await;
    // The box takes the focus in the handler of `toggle`, an event the browser fires a task
    // after the click opened the menu.
    let focused = "return document.activeElement && document.activeElement.closest('form.edit') !== null;";
    wait_script(&a, focused, "the edit box has the focus").await;
    let edit = format!("{mine} form.edit textarea");
    on(&a, &edit, async |e| e.send_keys("\u{E008}\u{E007}\u{E008}Second line\u{E008}\u{E007}\u{E008}Third line").await)
        .await;
    let fits = "const t = document.querySelector(arguments[0]); return t.scrollHeight <= t.clientHeight + 1;";
    assert_eq!(a.execute(fits, vec![serde_json::json!(edit)]).await.unwrap(), true, "three lines, no scrollbar");
    press_enter(&a, &edit).await;
    wait_text(&a, &format!("{mine} .text"), |t| t == "First line\nSecond line\nThird line").await;
    wait_visible(&a, &format!("{mine} .edited")).await;

    // Escape gives up.
    click(&a, &format!("{mine} .message-actions summary")).await;
    on(&a, &edit, async |e| e.send_keys(" and more\u{E00C}").await).await;
    wait_text(&a, &format!("{mine} .text"), |t| t == "First line\nSecond line\nThird line").await;
    let open = format!("return document.querySelector('{mine} .message-actions').open;");
    assert_eq!(a.execute(&open, vec![]).await.unwrap(), false, "closed");
    screenshot(&a, "message-actions").await;

    // Removing asks first.
    click(&a, &format!("{mine} .remove-message summary")).await;
    assert!(visible_text(&a, &format!("{mine} .remove-message .confirm")).await.contains("Remove this message?"));
    click(&a, &format!("{mine} .remove-message button.danger")).await;
    wait_gone(&a, mine).await;

    // A comment too.
    a.goto(&format!("{base}/app/posts/{LIKED_POST}")).await.unwrap();
    fill(&a, &format!("#post-{LIKED_POST} .comment-form input[name=message]"), "Mine to take back").await;
    click(&a, &format!("#post-{LIKED_POST} .comment-form button")).await;
    wait_text(&a, &format!("#comments-{LIKED_POST} li:last-child .text"), |t| t == "Mine to take back").await;
    let id = attr(&a, &format!("#comments-{LIKED_POST} li:last-child"), "id").await.unwrap();
    let comment = format!("#comments-{LIKED_POST} #{id}");
    click(&a, &format!("{comment} .remove-comment summary")).await;
    assert!(visible_text(&a, &format!("{comment} .remove-comment .confirm")).await.contains("Remove this comment?"));
    click(&a, &format!("{comment} .remove-comment button.danger")).await;
    wait_gone(&a, &comment).await;

    // Leaving a group.
    let chat = api(
        &base,
        support::seed::SESSION,
        "/chats/create-group",
        serde_json::json!({"title": "Leavers", "memberIds": [ASS_ASSER]}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    a.goto(&format!("{base}/app/messenger/{chat}")).await.unwrap();
    a.execute("document.querySelector('details.group-settings').open = true;", vec![]).await.unwrap();
    click(&a, "details.group-settings .leave-group summary").await;
    assert!(visible_text(&a, ".leave-group .confirm").await.contains("Leave this group?"));
    click(&a, ".leave-group button.danger").await;
    wait_for_path(&a, "/app/messenger").await;
    wait_text(&a, "#chat-list", |t| !t.contains("Leavers")).await;
    a.close().await.unwrap();
}
