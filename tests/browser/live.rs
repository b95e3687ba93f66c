//! Two people at once: what one does shows on the other's open page without a reload, and matches
//! what a reload shows. Each live event has its case here: a message and its read ticks
//! (`ticks_…`), a rename and a leave (`a_rename_…`), a friend request and its acceptance
//! (`a_request_…`), removing a friend (`removing_…`), a post, a comment and a like on your wall
//! (`posts_and_comments_…`), and the toasts and unread counts they bring (`toasts_…`).

#[allow(unused_imports)]
use super::*;

use serde_json::{Value, json};

const PASSWORD: &str = "a long secret";

/// Someone new, signed up through the API: their id and an API session.
async fn person(base: &str, nick: &str, first: &str, last: &str) -> (String, String) {
    let body = json!({"firstName": first, "lastName": last, "nick": nick, "password": PASSWORD});
    let answer: Value =
        reqwest::Client::new().post(format!("{base}/register")).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    let id = answer["data"]["user"]["id"].as_str().unwrap().to_owned();
    let session = answer["data"]["session"]["sessionId"].as_str().unwrap().to_owned();
    (id, session)
}

/// Makes two people friends through the API.
async fn befriend(base: &str, (a, a_session): &(String, String), (b, b_session): &(String, String)) {
    api(base, a_session, "/friendship/send-request", json!({"responderId": b})).await;
    api(base, b_session, "/friendship/accept-request", json!({"requesterId": a})).await;
}

/// The text of `css` now, then after a reload: they must agree (what came live is what the
/// server says).
async fn same_after_reload(client: &Client, css: &str) -> String {
    let live = visible_text(client, css).await;
    client.refresh().await.unwrap();
    wait_live(client).await;
    let reloaded = visible_text(client, css).await;
    assert_eq!(live, reloaded, "{css}: live, then after a reload");
    reloaded
}

/// Whether an element matching `css` is on the page now (after htmx settled).
async fn present(client: &Client, css: &str) -> bool {
    settle(client).await;
    !client.find_all(Locator::Css(css)).await.unwrap().is_empty()
}

/// Waits until no element matches `css`.
async fn wait_gone(client: &Client, css: &str) {
    for _ in 0..150 {
        if !present(client, css).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never went away");
}

async fn title(client: &Client) -> String {
    client.execute("return document.title;", vec![]).await.unwrap().as_str().unwrap_or_default().to_owned()
}

/// Accepting a request turns the requester's open view of the accepter's page into a friend's:
/// the button, the post form, and a toast that says who accepted. The accepter's own Requests
/// tab listed the request as it came, with a toast that says what it is and leads there.
#[tokio::test]
async fn a_request_and_its_acceptance_show_on_both_open_pages() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let anna = person(&base, "anna_live", "Anna", "Petrova").await;
    let newbie = person(&base, "newbie_live", "Newbie", "Tester").await;
    let (_da, a) = browser().await;
    let (_dn, n) = browser().await;
    log_in(&a, &base, "anna_live", PASSWORD).await;
    a.goto(&format!("{base}/app/friends?tab=incoming")).await.unwrap();
    wait_live(&a).await;
    log_in(&n, &base, "newbie_live", PASSWORD).await;
    n.goto(&format!("{base}/app/users/{}", anna.0)).await.unwrap();
    wait_live(&n).await;

    // Newbie asks from Anna's page.
    click(&n, &format!("#friendship-{} button", anna.0)).await;
    wait_text(&n, &format!("#friendship-{} .state", anna.0), |t| t == "Request sent").await;

    // Anna's Requests tab lists it, and the toast says what happened and leads there.
    wait_text(&a, ".friends .people", |t| t.contains("Newbie Tester")).await;
    wait_text(&a, "#friends-badge", |t| t == "1").await;
    let toast = wait_text(&a, "#toasts .toast", |t| !t.is_empty()).await;
    assert_eq!(toast, "Newbie Tester wants to be your friend");
    assert_eq!(same_after_reload(&a, ".friends .people li .name").await, "Newbie Tester");

    // Anna accepts: Newbie's view of her page follows.
    a.goto(&format!("{base}/app/users/{}", newbie.0)).await.unwrap();
    wait_live(&a).await;
    click(&a, &format!("#friendship-{} button.primary", newbie.0)).await;
    wait_text(&a, &format!("#friendship-{} .state", newbie.0), |t| t == "Your friend").await;
    wait_text(&n, &format!("#friendship-{} .state", anna.0), |t| t == "Your friend").await;
    wait_visible(&n, ".compose textarea").await;
    let toast = wait_text(&n, "#toasts .toast", |t| t.contains("accepted")).await;
    assert_eq!(toast, "Anna Petrova accepted your request");
    screenshot(&n, "live-accepted").await;
    // The toast opens the page of who accepted.
    click(&n, "#toasts .toast").await;
    wait_for_path(&n, &format!("/app/users/{}", anna.0)).await;
    assert_eq!(same_after_reload(&n, &format!("#friendship-{} .state", anna.0)).await, "Your friend");
    assert!(present(&n, ".compose textarea").await);
    a.close().await.unwrap();
    n.close().await.unwrap();
}

/// The toast that came to a page whose language is Russian says it in Russian, and opens the
/// requests tab.
#[tokio::test]
async fn a_friend_request_toast_speaks_the_page_s_language_and_opens_the_requests() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let anna = person(&base, "anna_ru", "Anna", "Petrova").await;
    let newbie = person(&base, "newbie_ru", "Newbie", "Tester").await;
    let (_da, a) = browser().await;
    log_in(&a, &base, "anna_ru", PASSWORD).await;
    click_link(&a, "Русский").await;
    wait_live(&a).await;
    api(&base, &newbie.1, "/friendship/send-request", json!({"responderId": anna.0})).await;
    let toast = wait_text(&a, "#toasts .toast", |t| !t.is_empty()).await;
    assert_eq!(toast, "Newbie Tester хочет добавить вас в друзья");
    click(&a, "#toasts .toast").await;
    wait_text(&a, ".friends .people", |t| t.contains("Newbie Tester")).await;
    assert!(a.current_url().await.unwrap().as_str().ends_with("/app/friends?tab=incoming"));
    a.close().await.unwrap();
}

/// A group renamed or left by others: another member's open chat shows the new title (its rename
/// field too, so saving it would not put the old name back) and the members as they are.
#[tokio::test]
async fn a_rename_and_a_leave_show_in_another_member_s_open_chat() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let anna = person(&base, "anna_group", "Anna", "Petrova").await;
    let boris = person(&base, "boris_group", "Boris", "Volkov").await;
    let newbie = person(&base, "newbie_group", "Newbie", "Tester").await;
    befriend(&base, &anna, &boris).await;
    befriend(&base, &anna, &newbie).await;
    let members = json!({"title": "Weekend", "memberIds": [boris.0, newbie.0]});
    let chat = api(&base, &anna.1, "/chats/create-group", members).await["id"].as_str().unwrap().to_owned();

    let (_db, b) = browser().await;
    log_in(&b, &base, "boris_group", PASSWORD).await;
    b.goto(&format!("{base}/app/messenger/{chat}")).await.unwrap();
    wait_live(&b).await;
    assert_eq!(visible_text(&b, "#chat-title").await, "Weekend");
    click(&b, ".group-settings summary").await;
    assert!(visible_text(&b, ".group-settings .members").await.contains("Newbie Tester"));

    api(&base, &anna.1, "/chats/rename", json!({"chatId": chat, "title": "Hiking trip"})).await;
    wait_text(&b, "#chat-title", |t| t == "Hiking trip").await;
    wait_text(&b, "#chat-list li.current strong", |t| t == "Hiking trip").await;
    let field = attr(&b, ".group-settings input[name=title]", "value").await;
    let typed = on(&b, ".group-settings input[name=title]", async |e| e.prop("value").await).await;
    assert_eq!((field.as_deref(), typed.as_deref()), (Some("Hiking trip"), Some("Hiking trip")));
    assert!(title(&b).await.contains("Hiking trip"), "the tab's title: {}", title(&b).await);

    api(&base, &newbie.1, "/chats/leave", json!({"chatId": chat})).await;
    wait_text(&b, ".group-settings .members", |t| !t.contains("Newbie Tester")).await;
    screenshot(&b, "live-group-renamed").await;
    let live_members = visible_text(&b, ".group-settings .members").await;
    b.refresh().await.unwrap();
    wait_live(&b).await;
    assert_eq!(visible_text(&b, "#chat-title").await, "Hiking trip");
    click(&b, ".group-settings summary").await;
    assert_eq!(visible_text(&b, ".group-settings .members").await, live_members);
    b.close().await.unwrap();
}

/// Read ticks of a message sent from the page (not only through the API) turn as the other
/// reads it in their open chat, private and group alike, and say the same after a reload.
#[tokio::test]
async fn ticks_of_a_message_sent_from_the_page_turn_live() {
    let db = compat_database().await;
    let (_server, base) = support::server::serve_with(&db, &[("APP_ENV", "dev".into())]).await;
    let anna = person(&base, "anna_ticks", "Anna", "Petrova").await;
    let boris = person(&base, "boris_ticks", "Boris", "Volkov").await;
    let chloe = person(&base, "chloe_ticks", "Chloe", "Martin").await;
    befriend(&base, &anna, &boris).await;
    befriend(&base, &anna, &chloe).await;
    api(&base, &boris.1, "/conversations/send-message", json!({"recipientId": anna.0, "text": "Hi"})).await;
    let group = json!({"title": "Three", "memberIds": [boris.0, chloe.0]});
    let group = api(&base, &anna.1, "/chats/create-group", group).await["id"].as_str().unwrap().to_owned();

    let (_da, a) = browser().await;
    let (_db, b) = browser().await;
    log_in(&a, &base, "anna_ticks", PASSWORD).await;
    log_in(&b, &base, "boris_ticks", PASSWORD).await;
    for (chat, kind) in [(None, "private"), (Some(group), "group")] {
        match &chat {
            None => {
                a.goto(&format!("{base}/app/messenger/with/{}", boris.0)).await.unwrap();
                b.goto(&format!("{base}/app/messenger/with/{}", anna.0)).await.unwrap();
            }
            Some(id) => {
                a.goto(&format!("{base}/app/messenger/{id}")).await.unwrap();
                b.goto(&format!("{base}/app/messenger/{id}")).await.unwrap();
            }
        }
        wait_visible(&a, "#chat").await;
        wait_visible(&b, "#chat").await;
        wait_live(&a).await;
        wait_live(&b).await;
        let text = format!("Seen in the {kind} chat?");
        fill(&a, "#send-box textarea", &text).await;
        press_enter(&a, "#send-box textarea").await;
        wait_text(&b, "#messages li:last-child .text", |t| t == text).await;
        assert_eq!(same_after_reload(&b, "#messages li:last-child .text").await, text, "{kind}");
        let ticks = "#messages li.mine:last-child .ticks";
        wait_text(&a, ticks, |t| t == "✓✓").await;
        let label = attr(&a, ticks, "title").await.unwrap_or_default();
        assert!(!label.ends_with(" 0"), "{kind}: ✓✓ read by nobody? {label:?}");
        assert_eq!(same_after_reload(&a, ticks).await, "✓✓", "{kind}");
        assert_eq!(attr(&a, ticks, "title").await.unwrap_or_default(), label, "{kind}: the label after a reload");
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// A friend's post on your wall and comments under your posts appear on your open page, with
/// the count of comments right; your own comment counts too.
#[tokio::test]
async fn posts_and_comments_on_your_wall_arrive_live() {
    let db = compat_database().await;
    let (_server, base) = support::server::serve_with(&db, &[("APP_ENV", "dev".into())]).await;
    let anna = person(&base, "anna_wall", "Anna", "Petrova").await;
    let boris = person(&base, "boris_wall", "Boris", "Volkov").await;
    befriend(&base, &anna, &boris).await;
    let mine = api(&base, &anna.1, "/posts/publish", json!({"ownerId": anna.0, "message": "My own post"})).await;
    let mine = mine["id"].as_str().unwrap().to_owned();

    let (_da, a) = browser().await;
    log_in(&a, &base, "anna_wall", PASSWORD).await;
    wait_text(&a, "#posts .post .text", |t| t == "My own post").await;

    // Anna comments herself: the count follows.
    let post = format!("#post-{mine}");
    fill(&a, &format!("{post} .comment-form input[name=message]"), "First!").await;
    click(&a, &format!("{post} .comment-form button")).await;
    wait_text(&a, &format!("#comments-{mine}"), |t| t.contains("First!")).await;
    wait_text(&a, &format!("{post} .comment-count"), |t| t == "Comments 1").await;

    // Boris comments on it, then writes on her wall.
    api(&base, &boris.1, "/comments/publish-on-post", json!({"id": mine, "message": "Second!"})).await;
    wait_text(&a, &format!("#comments-{mine}"), |t| t.contains("Second!")).await;
    wait_text(&a, &format!("{post} .comment-count"), |t| t == "Comments 2").await;
    let toast = wait_text(&a, "#toasts", |t| t.contains("Second!")).await;
    assert!(toast.contains("Boris Volkov"), "{toast}");
    let his = api(&base, &boris.1, "/posts/publish", json!({"ownerId": anna.0, "message": "Hello from Boris"})).await;
    let his = his["id"].as_str().unwrap().to_owned();
    wait_text(&a, "#posts .post .text", |t| t == "Hello from Boris").await;
    wait_text(&a, "#toasts", |t| t.contains("Hello from Boris")).await;
    // And likes her post: its count follows.
    api(&base, &boris.1, "/like/post", json!({"id": mine})).await;
    wait_text(&a, &format!("{post} .count"), |t| t == "1").await;
    screenshot(&a, "live-wall").await;

    let live = visible_text(&a, "#posts").await;
    a.refresh().await.unwrap();
    wait_live(&a).await;
    assert_eq!(visible_text(&a, "#posts").await, live, "the wall live, then after a reload");
    assert_eq!(visible_text(&a, &format!("#post-{his} .text")).await, "Hello from Boris");
    a.close().await.unwrap();
}

/// Removing a friend asks first; then the remover's page says what the other now is (a
/// follower, not a request waiting for an answer), and the ex-friend's open view of the
/// remover's page loses its post form and shows their request, without a reload.
#[tokio::test]
async fn removing_a_friend_asks_first_and_both_pages_follow() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let anna = person(&base, "anna_remove", "Anna", "Petrova").await;
    let boris = person(&base, "boris_remove", "Boris", "Volkov").await;
    befriend(&base, &anna, &boris).await;
    let (_da, a) = browser().await;
    let (_db, b) = browser().await;
    log_in(&a, &base, "anna_remove", PASSWORD).await;
    log_in(&b, &base, "boris_remove", PASSWORD).await;
    b.goto(&format!("{base}/app/users/{}", anna.0)).await.unwrap();
    wait_live(&b).await;
    wait_visible(&b, ".compose textarea").await;
    a.goto(&format!("{base}/app/users/{}", boris.0)).await.unwrap();
    wait_live(&a).await;

    // One click only asks.
    let controls = format!("#friendship-{}", boris.0);
    click(&a, &format!("{controls} button")).await;
    let asked = wait_text(&a, &controls, |t| t.contains("Remove Boris Volkov from friends?")).await;
    assert!(asked.contains("Cancel"), "{asked}");
    screenshot(&a, "remove-friend-confirm").await;
    // Cancel keeps the friend.
    click(&a, &format!("{controls} button.secondary")).await;
    wait_text(&a, &format!("{controls} .state"), |t| t == "Your friend").await;
    let relation = api_get(
        &base,
        &anna.1,
        &format!("/friendship/relation-between?sourceUserId={}&targetUserIds={}", anna.0, boris.0),
    )
    .await;
    assert_eq!(relation, json!({"friendIds": [boris.0]}));

    // Confirmed, it is done.
    click(&a, &format!("{controls} button")).await;
    wait_text(&a, &controls, |t| t.contains("Remove Boris Volkov from friends?")).await;
    click(&a, &format!("{controls} button.danger")).await;
    wait_text(&a, &format!("{controls} .state"), |t| t == "Follows you").await;
    assert_eq!(same_after_reload(&a, &format!("{controls} .state")).await, "Follows you");
    assert_eq!(visible_text(&a, &format!("{controls} button")).await, "Add friend");
    // Not a request waiting for an answer: the Requests tab and the badge agree.
    a.goto(&format!("{base}/app/friends?tab=incoming")).await.unwrap();
    wait_visible(&a, ".friends").await;
    assert!(!visible_text(&a, ".friends").await.contains("Boris Volkov"));

    // Boris's open view of Anna's page followed.
    wait_gone(&b, ".compose").await;
    wait_text(&b, &format!("#friendship-{} .state", anna.0), |t| t == "Request sent").await;
    assert_eq!(same_after_reload(&b, &format!("#friendship-{} .state", anna.0)).await, "Request sent");
    assert!(!present(&b, ".compose").await);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// Without script the confirmation is a page of its own, and removing works from there.
#[tokio::test]
async fn removing_a_friend_without_script_confirms_on_a_page() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let anna = person(&base, "anna_plain", "Anna", "Petrova").await;
    let boris = person(&base, "boris_plain", "Boris", "Volkov").await;
    befriend(&base, &anna, &boris).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let cookie = format!("nosebook_session={}:{}", anna.1, anna.0);
    let profile = format!("{base}/app/users/{}", boris.0);
    let page = http.get(&profile).header("Cookie", &cookie).send().await.unwrap().text().await.unwrap();
    let token = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let remove = format!("{base}/app/friends/{}/remove", boris.0);
    let asked = http.post(&remove).header("Cookie", &cookie).header("Referer", &profile).form(&[("csrf", &token)]);
    let asked = asked.send().await.unwrap();
    assert_eq!(asked.status(), 200, "a question, not the removal");
    let asked = asked.text().await.unwrap();
    assert!(asked.contains("Remove Boris Volkov from friends?"), "{asked}");
    let relation = format!("/friendship/relation-between?sourceUserId={}&targetUserIds={}", anna.0, boris.0);
    assert_eq!(api_get(&base, &anna.1, &relation).await, json!({"friendIds": [boris.0]}));
    let confirmed = http
        .post(&remove)
        .header("Cookie", &cookie)
        .header("Referer", &profile)
        .form(&[("csrf", token.as_str()), ("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 303);
    assert_eq!(api_get(&base, &anna.1, &relation).await, json!({"pendingRequesterIds": [boris.0]}));
}

/// A message toast names the chat and opens it; the Messenger item and the tab's title count
/// the chats with unread messages, live and from the server on a reload; a like toast is cut
/// on a word, not in one, and opens the post.
#[tokio::test]
async fn toasts_open_what_they_tell_and_unread_chats_are_counted() {
    let db = compat_database().await;
    // The running clock: under the frozen one the two messages tie on their time and show in the
    // order of their random ids.
    let (_server, base) = support::server::serve_with(&db, &[("APP_ENV", "dev".into())]).await;
    let anna = person(&base, "anna_toast", "Anna", "Petrova").await;
    let boris = person(&base, "boris_toast", "Boris", "Volkov").await;
    befriend(&base, &anna, &boris).await;
    let long = "A walk along the river this evening was wonderful, the light over the water turned \
                everything golden and quiet";
    let post = api(&base, &anna.1, "/posts/publish", json!({"ownerId": anna.0, "message": long})).await;
    let post = post["id"].as_str().unwrap().to_owned();

    let (_da, a) = browser().await;
    log_in(&a, &base, "anna_toast", PASSWORD).await;
    let messenger = "nav.menu a[href='/app/messenger']";
    let badge = "#messenger-badge";
    assert_eq!(visible_text(&a, messenger).await, "Messenger");
    assert!(!title(&a).await.starts_with('('));

    api(&base, &boris.1, "/conversations/send-message", json!({"recipientId": anna.0, "text": "Are you home?"})).await;
    wait_text(&a, badge, |t| t == "1").await;
    assert!(title(&a).await.starts_with("(1) "), "{}", title(&a).await);
    assert_eq!(wait_text(&a, "#toasts .toast", |t| !t.is_empty()).await, "Boris Volkov: Are you home?");
    screenshot(&a, "live-unread").await;
    a.refresh().await.unwrap();
    wait_live(&a).await;
    assert_eq!(visible_text(&a, badge).await, "1", "from the server");
    assert!(title(&a).await.starts_with("(1) "), "{}", title(&a).await);

    // The like toast: on a word boundary, and it opens the post.
    api(&base, &boris.1, "/like/post", json!({"id": post})).await;
    let toast = wait_text(&a, "#toasts .toast", |t| t.starts_with("♥")).await;
    let shown = toast.trim_end_matches('…');
    assert!(toast.ends_with('…'), "{toast}");
    let quoted = shown.split_once(": ").map(|(_, q)| q).unwrap_or_default().trim_end();
    assert!(long.starts_with(quoted), "{toast}");
    assert!(long[quoted.len()..].starts_with(' '), "cut inside a word: {toast}");
    assert!(toast.contains("Boris Volkov"), "{toast}");
    click(&a, "#toasts .toast").await;
    wait_for_path(&a, &format!("/app/posts/{post}")).await;
    assert_eq!(visible_text(&a, &format!("#post-{post} .text")).await, long);
    wait_live(&a).await;

    // The message toast opens the chat; once read, nothing is counted.
    api(&base, &boris.1, "/conversations/send-message", json!({"recipientId": anna.0, "text": "Call me"})).await;
    let toast = wait_text(&a, "#toasts .toast:last-child", |t| t.contains("Call me")).await;
    assert_eq!(toast, "Boris Volkov: Call me");
    click(&a, "#toasts .toast:last-child").await;
    wait_text(&a, "#messages li:last-child .text", |t| t == "Call me").await;
    wait_text(&a, messenger, |t| t == "Messenger").await;
    assert_eq!(visible_text(&a, messenger).await, "Messenger");
    assert!(!title(&a).await.starts_with('('), "{}", title(&a).await);
    a.close().await.unwrap();
}

/// A query of the JSON API as the holder of `session`, which must succeed: its `data`.
async fn api_get(base: &str, session: &str, path: &str) -> Value {
    let request = reqwest::Client::new().get(format!("{base}{path}")).header("X-Auth-Session-Id", session);
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["ok"], true, "{path}: {answer}");
    answer["data"].clone()
}

/// A request taken back leaves the open Requests tab and its count, as a reload shows.
#[tokio::test]
async fn a_request_taken_back_leaves_the_open_requests_tab() {
    let db = compat_database().await;
    let (_server, base) = serve(&db).await;
    let anna = person(&base, "anna_back", "Anna", "Petrova").await;
    let newbie = person(&base, "newbie_back", "Newbie", "Tester").await;
    let (_da, a) = browser().await;
    log_in(&a, &base, "anna_back", PASSWORD).await;
    a.goto(&format!("{base}/app/friends?tab=incoming")).await.unwrap();
    wait_live(&a).await;
    api(&base, &newbie.1, "/friendship/send-request", json!({"responderId": anna.0})).await;
    wait_text(&a, ".friends .people", |t| t.contains("Newbie Tester")).await;
    wait_text(&a, "#friends-badge", |t| t == "1").await;

    api(&base, &newbie.1, "/friendship/cancel-request", json!({"responderId": anna.0})).await;
    wait_text(&a, "section.friends", |t| !t.contains("Newbie Tester")).await;
    // The badge empties (or goes): nothing is counted any more.
    let counted = "var b = document.getElementById('friends-badge'); return b ? b.textContent.trim() : '';";
    let mut badge = String::from("1");
    for _ in 0..100 {
        badge = a.execute(counted, vec![]).await.unwrap().as_str().unwrap_or_default().to_owned();
        if badge.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(badge, "", "the count went with the request");
    let listed = same_after_reload(&a, "section.friends").await;
    assert!(!listed.contains("Newbie Tester"), "{listed}");
    a.close().await.unwrap();
}

/// News: the page a signed-in person opens on. A friend's new post is counted on a button on top
/// while the list stays as it is; a click puts it there. A post written in the news' own box goes
/// on top at once, and likes work there as on a wall.
#[tokio::test]
async fn news_shows_friends_posts_and_counts_new_ones_live() {
    let db = compat_database().await;
    // A clock that moves: the news are in the order posts were written.
    let (_server, base) = support::server::serve_with(&db, &[("APP_ENV", "dev".into())]).await;
    let anna = person(&base, "anna_news", "Anna", "Petrova").await;
    let boris = person(&base, "boris_news", "Boris", "Volkov").await;
    befriend(&base, &anna, &boris).await;
    api(&base, &boris.1, "/posts/publish", json!({"ownerId": boris.0, "message": "An older post of Boris"})).await;
    let (_da, a) = browser().await;
    log_in(&a, &base, "anna_news", PASSWORD).await;
    a.goto(&format!("{base}/app")).await.unwrap();
    wait_for_path(&a, "/app/news").await;
    wait_live(&a).await;
    assert_eq!(visible_text(&a, "nav.menu a").await, "News", "first in the menu");
    wait_text(&a, "#posts", |t| t.contains("An older post of Boris")).await;

    // Boris posts twice while Anna reads: counted, not yet shown.
    for text in ["Boris, fresh news", "Boris again"] {
        api(&base, &boris.1, "/posts/publish", json!({"ownerId": boris.0, "message": text})).await;
    }
    wait_text(&a, "#new-posts", |t| t == "2 new posts").await;
    assert!(!visible_text(&a, "#posts").await.contains("fresh news"));
    screenshot(&a, "news-new-posts").await;
    click(&a, "#new-posts").await;
    wait_text(&a, "#posts .post:first-child .text", |t| t == "Boris again").await;
    assert!(!present(&a, "#new-posts:not([hidden])").await, "the button goes once they are shown");
    let texts = || async { visible_text(&a, "#posts").await };
    let shown = texts().await;
    assert!(shown.find("Boris again") < shown.find("Boris, fresh news"), "newest first: {shown}");

    // Anna's own post from the news' box: on top at once, and a like there.
    fill(&a, ".compose textarea", "Anna writes from the news").await;
    click(&a, ".compose button").await;
    wait_text(&a, "#posts .post:first-child .text", |t| t == "Anna writes from the news").await;
    click(&a, "#posts .post:first-child button.like").await;
    wait_text(&a, "#posts .post:first-child button.like", |t| t.contains('1')).await;
    // After a reload the same posts, in the same order, nothing twice.
    client_reloaded_in_order(
        &a,
        &["Anna writes from the news", "Boris again", "Boris, fresh news", "An older post of Boris"],
    )
    .await;
    a.close().await.unwrap();
}

/// Reloads and checks the news lists exactly these posts, in this order.
async fn client_reloaded_in_order(client: &Client, expected: &[&str]) {
    client.refresh().await.unwrap();
    wait_live(client).await;
    let texts = client
        .execute("return [...document.querySelectorAll('#posts .post .text')].map(p => p.textContent);", vec![])
        .await
        .unwrap();
    let texts: Vec<String> = serde_json::from_value(texts).unwrap();
    assert_eq!(texts, expected);
}
