//! Every page fits a phone and a desktop and reads to everyone: no horizontal scroll, contrast
//! and the other serious accessibility rules (axe-core in the test browser).

use serde_json::{Value, json};

use super::*;

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

/// The longest first and last name (64 characters) as one word: nothing to break it at.
const LONG_NAME: &str = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenh";
/// The longest nick (32 characters).
const LONG_NICK: &str = "wolfeschlegelsteinhausenbergerdo";
/// The longest group title (128 characters), one word too.
const LONG_TITLE: &str = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaftschaferswessenschafewarenwohlgepflegeundsorgfaltigkeitbeschut";

/// The demo people, and one whose names are as long as names may be, a friend of Anna's: his post
/// and comment on her wall, their private chat and a group with the longest title.
struct World {
    base: String,
    long_id: String,
    dmitri_id: String,
    emma_id: String,
    long_post: String,
    private_chat: String,
    group_chat: String,
}

const DEMO_PASSWORD: &str = "nosebook-demo";
const LONG_PASSWORD: &str = "a long secret of his";

/// A query of the JSON API as the holder of `session`, which must succeed: its `data`.
async fn api_get(base: &str, session: &str, path: &str) -> Value {
    let request = reqwest::Client::new().get(format!("{base}{path}")).header("X-Auth-Session-Id", session);
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["ok"], true, "{path}: {answer}");
    answer["data"].clone()
}

async fn world(db: &str, base: String) -> World {
    let seeded = Command::new(BIN).args(["seed", "demo"]).env("DATABASE_URL", db).env("APP_ENV", "testing").status();
    assert!(seeded.unwrap().success());
    let registered: Value = reqwest::Client::new()
        .post(format!("{base}/register"))
        .json(&json!({"firstName": LONG_NAME, "lastName": LONG_NAME, "nick": LONG_NICK, "password": LONG_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(registered["ok"], true, "{registered}");
    let long = registered["data"]["session"]["sessionId"].as_str().unwrap().to_owned();
    let long_id = registered["data"]["user"]["id"].as_str().unwrap().to_owned();
    let signed_in = api_login(&base, "anna", DEMO_PASSWORD).await;
    let anna = signed_in["session"]["sessionId"].as_str().unwrap().to_owned();
    let anna_id = signed_in["user"]["id"].as_str().unwrap().to_owned();
    let id_of = async |nick: &str| {
        let found = api_get(&base, &anna, &format!("/users?text={nick}")).await;
        let people = found["data"].as_array().cloned().unwrap_or_default();
        let person = people.iter().find(|p| p["nick"] == nick).unwrap_or_else(|| panic!("{nick}: {found}"));
        person["id"].as_str().unwrap().to_owned()
    };
    let (boris_id, dmitri_id, emma_id) = (id_of("boris").await, id_of("dmitri").await, id_of("emma").await);

    api(&base, &long, "/friendship/send-request", json!({"responderId": anna_id, "message": LONG_NAME})).await;
    api(&base, &anna, "/friendship/accept-request", json!({"requesterId": long_id})).await;
    api(&base, &anna, "/friendship/send-request", json!({"responderId": emma_id})).await;
    let word = LONG_NAME.repeat(3);
    api(&base, &long, "/posts/publish", json!({"ownerId": anna_id, "message": format!("{word} on your wall")})).await;
    let wall = api_get(&base, &anna, &format!("/posts?ownerId={anna_id}")).await;
    let long_post = wall["data"][0]["id"].as_str().unwrap_or_else(|| panic!("a post: {wall}")).to_owned();
    api(&base, &long, "/comments/publish-on-post", json!({"id": long_post, "message": word})).await;
    api(&base, &long, "/conversations/send-message", json!({"recipientId": anna_id, "text": word})).await;
    api(&base, &anna, "/conversations/send-message", json!({"recipientId": long_id, "text": format!("{word}!")})).await;
    let chats = api_get(&base, &anna, &format!("/chats?interlocutorId={long_id}")).await;
    let private_chat = chats["data"][0]["id"].as_str().unwrap_or_else(|| panic!("a chat: {chats}")).to_owned();
    // Chloe, Anna's friend outside the group, is one she may add.
    let members = json!({"title": LONG_TITLE, "memberIds": [long_id, boris_id]});
    let group_chat = api(&base, &anna, "/chats/create-group", members).await["id"].as_str().unwrap().to_owned();
    api(&base, &anna, "/conversations/send-message", json!({"chatId": group_chat, "text": "Saturday?"})).await;
    api(&base, &long, "/conversations/send-message", json!({"chatId": group_chat, "text": word})).await;
    World { base, long_id, dmitri_id, emma_id, long_post, private_chat, group_chat }
}

/// A page of the sweeps: where it is, what to do there first, and whether it is a chat (its
/// message box must show).
struct Page {
    path: String,
    /// A button to press and what then shows (a form sent back with its errors).
    press: Option<(&'static str, &'static str)>,
    chat: bool,
}

fn page(path: impl Into<String>) -> Page {
    Page { path: path.into(), press: None, chat: false }
}

fn chat(path: impl Into<String>) -> Page {
    Page { path: path.into(), press: None, chat: true }
}

/// Who looks, in which language, at which pages.
struct Tour {
    who: Option<(&'static str, &'static str)>,
    russian: bool,
    pages: Vec<Page>,
}

/// Every page of the web app, as one who is signed out, Anna (in English and in Russian) and the
/// long-named friend see them.
fn tours(w: &World) -> Vec<Tour> {
    let anna = || {
        vec![
            page("/app"),
            page(format!("/app/users/{}", w.long_id)),
            page(format!("/app/users/{}", w.dmitri_id)),
            page(format!("/app/users/{}", w.emma_id)),
            page(format!("/app/posts/{}", w.long_post)),
            page("/app/friends?tab=all"),
            page("/app/friends?tab=online"),
            page("/app/friends?tab=incoming"),
            page("/app/friends?tab=outgoing"),
            page("/app/messenger"),
            chat(format!("/app/messenger/{}", w.private_chat)),
            chat(format!("/app/messenger/{}", w.group_chat)),
            chat(format!("/app/messenger/with/{}", w.dmitri_id)),
            page(format!("/app/search?text={}", &LONG_NAME[..10])),
            page("/app/settings"),
            Page { press: Some(("#password-form button[type=submit]", "#password-result")), ..page("/app/settings") },
            page("/app/nowhere"),
        ]
    };
    let long = vec![
        page("/app"),
        page("/app/friends"),
        page("/app/messenger"),
        chat(format!("/app/messenger/{}", w.private_chat)),
        chat(format!("/app/messenger/{}", w.group_chat)),
        page("/app/settings"),
    ];
    let signed_out = || {
        vec![
            page("/app/login"),
            Page { press: Some(("button[type=submit].primary", ".field .error")), ..page("/app/login") },
            page("/app/signup"),
            Page { press: Some(("button[type=submit].primary", ".field .error")), ..page("/app/signup") },
            page("/app/nowhere"),
        ]
    };
    vec![
        Tour { who: None, russian: false, pages: signed_out() },
        Tour { who: None, russian: true, pages: signed_out() },
        Tour { who: Some(("anna", DEMO_PASSWORD)), russian: false, pages: anna() },
        Tour { who: Some(("anna", DEMO_PASSWORD)), russian: true, pages: anna() },
        Tour { who: Some((LONG_NICK, LONG_PASSWORD)), russian: false, pages: long },
    ]
}

/// Takes every tour at both sizes, each in a fresh browser, and `check`s every page with all its
/// disclosures (group settings, a message's actions) open: what `check` found on each, named.
/// Each page is kept as a screenshot named after `shots`, if given.
async fn sweep(w: &World, shots: Option<&str>, check: impl AsyncFn(&Client, &Page) -> Vec<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for tour in tours(w) {
        let (_driver, client) = browser().await;
        if let Some((nick, password)) = tour.who {
            log_in(&client, &w.base, nick, password).await;
        }
        let name = match tour.who {
            None => "signed-out",
            Some((nick, _)) if nick == LONG_NICK => "long-name",
            Some((nick, _)) => nick,
        };
        let lang = if tour.russian {
            open(&client, &w.base, "/app/lang/ru").await;
            "ru"
        } else {
            "en"
        };
        for size in [PHONE, DESKTOP] {
            viewport(&client, size).await;
            for (i, page) in tour.pages.iter().enumerate() {
                open(&client, &w.base, &page.path).await;
                if let Some((button, then)) = page.press {
                    click(&client, button).await;
                    wait_visible(&client, then).await;
                    settle(&client).await;
                }
                client
                    .execute("document.querySelectorAll('details').forEach(d => d.open = true);", vec![])
                    .await
                    .unwrap();
                for problem in check(&client, page).await {
                    problems.push(format!("{name} ({lang}) at {}x{} on {}: {problem}", size.0, size.1, page.path));
                }
                if let Some(shots) = shots {
                    screenshot(&client, &format!("{shots}-{name}-{lang}-{}x{}-{i}", size.0, size.1)).await;
                }
            }
        }
        client.close().await.unwrap();
    }
    problems
}

/// What does not fit the viewport: a horizontal scroll (and the elements reaching past the
/// right edge), anything sticking out of its card, and in a chat a message box out of view.
const FIT: &str = r#"
const [chat] = arguments;
const problems = [];
const width = window.innerWidth, height = window.innerHeight;
const describe = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    [...e.classList].map(c => '.' + c).join('');
const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
if (document.documentElement.scrollWidth > width) {
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => shown(e) && e.getBoundingClientRect().right > width + 0.5).slice(0, 6).map(describe);
  problems.push(`scrolls sideways: ${document.documentElement.scrollWidth} px wide in ${width}: ${wide.join(', ')}`);
}
for (const card of document.querySelectorAll('.card')) {
  if (!shown(card)) continue;
  const c = card.getBoundingClientRect();
  const out = [...card.querySelectorAll('*')].filter(e => {
    if (!shown(e)) return false;
    const r = e.getBoundingClientRect();
    return r.right > c.right + 0.5 || r.left < c.left - 0.5;
  });
  if (out.length) problems.push(`sticks out of ${describe(card)}: ${out.slice(0, 4).map(describe).join(', ')}`);
}
if (chat) {
  for (const css of ['#send-box textarea', '#send-box button']) {
    const box = document.querySelector(css);
    if (!box || !shown(box)) { problems.push(`no ${css}`); continue; }
    const r = box.getBoundingClientRect();
    if (r.top < 0 || r.left < 0 || r.bottom > height || r.right > width)
      problems.push(`${css} out of view: ${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)} in ${width}x${height}`);
  }
}
return problems;
"#;

/// Opens `path` and waits for the page (and its htmx loads) to settle.
async fn open(client: &Client, base: &str, path: &str) {
    client.goto(&format!("{base}{path}")).await.unwrap();
    settle(client).await;
}

/// Every page at 390×844 and at 1280×900, signed out and signed in, with the demo people and the
/// longest names: nothing scrolls sideways or sticks out of its card, and a chat's message box
/// shows without scrolling.
#[tokio::test]
async fn every_page_fits_a_phone_and_a_desktop() {
    let db = support::fresh_database().await;
    let (_server, base) = serve(&db).await;
    let w = world(&db, base).await;
    let problems = sweep(&w, Some("fit"), async |client, page| {
        let found = client.execute(FIT, vec![json!(page.chat)]).await.unwrap();
        found.as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
    })
    .await;
    assert!(problems.is_empty(), "pages that do not fit:\n{}", problems.join("\n"));
}

/// axe-core, as installed by `scripts/test` (`npm ci` in `tests/browser/axe`).
fn axe_source() -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. axe-core is installed by scripts/test, or by hand: (cd tests/browser/axe && npm ci)",
            path.display()
        )
    })
}

/// Runs axe-core in the open page against WCAG 2.2 AA: its serious and critical violations,
/// each with the rule, its impact and the elements at fault.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then(r => done(r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.map(n => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`).join('\n'))))
  .catch(e => done([`axe failed: ${e}`]));
"#;

/// axe-core on every page, at both sizes, signed out and signed in: no serious or critical
/// violation of WCAG 2.2 AA (colour contrast included).
#[tokio::test]
async fn every_page_passes_axe_core() {
    let axe = axe_source();
    let db = support::fresh_database().await;
    let (_server, base) = serve(&db).await;
    let w = world(&db, base).await;
    let problems = sweep(&w, None, async |client, _| {
        client.execute(&format!("{axe}\nreturn true;"), vec![]).await.unwrap();
        let found = client.execute_async(AXE_RUN, vec![]).await.unwrap();
        found.as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
    })
    .await;
    assert!(problems.is_empty(), "accessibility violations:\n{}", problems.join("\n"));
}

/// The rectangle of the first element matching `css`: left, top, right, bottom.
async fn rect(client: &Client, css: &str) -> (f64, f64, f64, f64) {
    let (x, y, w, h) = on(client, css, async |e| e.rectangle().await).await;
    (x, y, x + w, y + h)
}

async fn displayed(client: &Client, css: &str) -> bool {
    settle(client).await;
    match client.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// On a phone the messenger is two screens, as in any mobile messenger: the chat list, and an
/// open chat alone with a way back to the list, its message box in view and nothing cut off.
/// A desktop keeps both side by side.
#[tokio::test]
async fn the_messenger_on_a_phone_is_two_screens() {
    let db = support::fresh_database().await;
    let (_server, base) = serve(&db).await;
    let w = world(&db, base).await;
    let (_driver, client) = browser().await;
    log_in(&client, &w.base, "anna", DEMO_PASSWORD).await;
    viewport(&client, PHONE).await;

    open(&client, &w.base, "/app/messenger").await;
    let (left, _, right, _) = rect(&client, "#chat-list").await;
    assert!(left >= 0.0 && right <= PHONE.0 as f64, "the list fits the screen: {left}..{right}");
    let wide = client.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap();
    assert!(wide.as_u64().unwrap() <= u64::from(PHONE.0), "the list page is {wide} px wide");
    screenshot(&client, "messenger-phone-list").await;

    click(&client, &format!("#chat-list li[data-chat='{}'] a", w.private_chat)).await;
    wait_for_path(&client, &format!("/app/messenger/{}", w.private_chat)).await;
    wait_visible(&client, "#messages li.mine").await;
    assert!(!displayed(&client, "#chat-list").await, "an open chat is a screen of its own");
    let back = attr(&client, "a.back", "href").await;
    assert_eq!(back.as_deref(), Some("/app/messenger"));
    assert!(displayed(&client, "a.back").await, "a way back to the list");
    let (_, top, right, bottom) = rect(&client, "#send-box textarea").await;
    assert!(
        top >= 0.0 && bottom <= PHONE.1 as f64 && right <= PHONE.0 as f64,
        "the message box in view: {top}..{bottom}"
    );
    let (_, _, right, _) = rect(&client, "#messages li.mine").await;
    assert!(right <= PHONE.0 as f64, "my message is not cut off: it ends at {right}");
    let wide = client.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap();
    assert!(wide.as_u64().unwrap() <= u64::from(PHONE.0), "the chat is {wide} px wide");
    screenshot(&client, "messenger-phone-chat").await;

    click(&client, "a.back").await;
    wait_for_path(&client, "/app/messenger").await;
    wait_visible(&client, "#chat-list").await;

    // A desktop: the list beside the open chat, no way "back" needed.
    viewport(&client, DESKTOP).await;
    open(&client, &w.base, &format!("/app/messenger/{}", w.private_chat)).await;
    let (_, list_top, list_right, _) = rect(&client, "aside.chats").await;
    let (pane_left, pane_top, _, _) = rect(&client, "section.chat-pane").await;
    assert!(list_right <= pane_left && (list_top - pane_top).abs() < 1.0, "side by side");
    assert!(!displayed(&client, "a.back").await);
    client.close().await.unwrap();
}

/// WCAG's contrast ratio of an element's text colour on its own background colour.
const CONTRAST: &str = r#"
const e = document.querySelector(arguments[0]);
const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const style = getComputedStyle(e);
const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
"#;

async fn contrast(client: &Client, css: &str) -> f64 {
    wait_visible(client, css).await;
    client.execute(CONTRAST, vec![json!(css)]).await.unwrap().as_f64().unwrap()
}

/// The friend-request count, a chat's unread count and the "this device" label read at
/// WCAG AA contrast (4.5:1 for their small text).
#[tokio::test]
async fn badges_can_be_read() {
    let db = support::fresh_database().await;
    let (_server, base) = serve(&db).await;
    let w = world(&db, base).await;
    let (_driver, client) = browser().await;
    log_in(&client, &w.base, "anna", DEMO_PASSWORD).await;
    let requests = contrast(&client, "#friends-badge .badge").await;
    open(&client, &w.base, "/app/messenger").await;
    let unread = contrast(&client, "#chat-list .badge.unread").await;
    open(&client, &w.base, "/app/settings").await;
    let this_device = contrast(&client, "#sessions .session .badge").await;
    screenshot(&client, "badges").await;
    for (what, ratio) in [("requests", requests), ("unread", unread), ("this device", this_device)] {
        assert!(ratio >= 4.5, "the {what} badge's contrast is {ratio:.2}:1");
    }
    client.close().await.unwrap();
}

/// A 64-character name stays within its heading, its chat-list row and the chat pane, on a
/// desktop and on a phone.
#[tokio::test]
async fn the_longest_name_stays_in_its_place() {
    let db = support::fresh_database().await;
    let (_server, base) = serve(&db).await;
    let w = world(&db, base).await;
    let (_driver, client) = browser().await;
    log_in(&client, &w.base, "anna", DEMO_PASSWORD).await;
    for size in [DESKTOP, PHONE] {
        viewport(&client, size).await;
        open(&client, &w.base, &format!("/app/users/{}", w.long_id)).await;
        let (_, _, card_right, _) = rect(&client, "section.profile").await;
        let (_, _, heading_right, _) = rect(&client, ".profile h1").await;
        let text_right = client
            .execute(
                "const r = document.createRange(); r.selectNodeContents(document.querySelector('.profile h1')); \
                 return Math.max(...[...r.getClientRects()].map(x => x.right));",
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        assert!(
            heading_right <= card_right && text_right <= card_right,
            "the name spills past its card: {text_right} > {card_right}"
        );
        let wide = client.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap();
        assert!(wide.as_u64().unwrap() <= u64::from(size.0), "the profile is {wide} px wide at {size:?}");

        open(&client, &w.base, "/app/messenger").await;
        let (_, _, list_right, _) = rect(&client, "aside.chats").await;
        let row = format!("#chat-list li[data-chat='{}']", w.private_chat);
        for part in ["strong", ".last"] {
            let (_, _, right, _) = rect(&client, &format!("{row} {part}")).await;
            assert!(right <= list_right, "{part} runs past the list at {size:?}: {right} > {list_right}");
        }
    }
    viewport(&client, DESKTOP).await;
    open(&client, &w.base, &format!("/app/messenger/{}", w.group_chat)).await;
    let narrow = rect(&client, "section.chat-pane").await;
    open(&client, &w.base, &format!("/app/messenger/{}", w.private_chat)).await;
    let long = rect(&client, "section.chat-pane").await;
    assert_eq!(narrow.2, long.2, "the long name widens the chat pane");
    assert!(long.2 <= DESKTOP.0 as f64);
    screenshot(&client, "long-name-chat").await;
    client.close().await.unwrap();
}

/// A comment's time and its Remove stand apart; the 404 page sits in the middle and leads home;
/// the icon is served; the group's "add member" list looks like the other fields.
#[tokio::test]
async fn small_things_look_right() {
    let db = support::fresh_database().await;
    let (_server, base) = serve(&db).await;
    let w = world(&db, base).await;
    let (_driver, client) = browser().await;
    log_in(&client, &w.base, "anna", DEMO_PASSWORD).await;
    viewport(&client, DESKTOP).await;

    // Anna may remove the long-named friend's comment on her wall: what does it follows the
    // comment's time, apart from it on the same line or on a line of its own.
    let apart = client
        .execute(
            r#"const time = [...document.querySelectorAll('#posts .comments li time')].find(t => t.nextElementSibling);
               const next = time.nextElementSibling;
               const shown = next.querySelector('summary') || next.querySelector('button') || next;
               const [a, b] = [time.getBoundingClientRect(), shown.getBoundingClientRect()];
               return [a.right, a.bottom, b.left, b.top, shown.textContent.trim()];"#,
            vec![],
        )
        .await
        .unwrap();
    let [time_right, time_bottom, next_left, next_top] = [0, 1, 2, 3].map(|i| apart[i].as_f64().unwrap());
    assert!(
        next_top >= time_bottom || next_left - time_right >= 6.0,
        "the time and {} run together: {time_right} → {next_left}",
        apart[4]
    );

    // 404, signed in and out: in the middle of the page, with a way home.
    for signed_in in [true, false] {
        if !signed_in {
            client.delete_all_cookies().await.unwrap();
        }
        open(&client, &w.base, "/app/nowhere").await;
        let (left, _, right, _) = rect(&client, ".card.message").await;
        let middle = (left + right) / 2.0;
        assert!((middle - DESKTOP.0 as f64 / 2.0).abs() <= 2.0, "the card's middle is at {middle}");
        assert_eq!(attr(&client, ".card.message a.home", "href").await.as_deref(), Some("/app"));
        screenshot(&client, &format!("not-found-{signed_in}")).await;
    }

    // The icon: linked from every page and at /favicon.ico.
    let icon = attr(&client, "link[rel=icon]", "href").await.expect("an icon link");
    for path in [icon.as_str(), "/favicon.ico"] {
        let answer = reqwest::get(format!("{}{path}", w.base)).await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        let kind = answer.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("image/"), "{path}: {kind}");
    }

    // The add-member list in a group's settings is dressed as the fields beside it.
    log_in(&client, &w.base, "anna", DEMO_PASSWORD).await;
    open(&client, &w.base, &format!("/app/messenger/{}", w.group_chat)).await;
    click(&client, "details.group-settings summary").await;
    let style = "const s = getComputedStyle(document.querySelector(arguments[0])); \
                 return [s.borderTopLeftRadius, s.borderTopColor, s.paddingLeft, s.fontSize, s.fontFamily];";
    let select = client.execute(style, vec![json!("details.group-settings select")]).await.unwrap();
    let input = client.execute(style, vec![json!("details.group-settings input[name=title]")]).await.unwrap();
    assert_eq!(select, input, "the dropdown is styled as the field above it");
    screenshot(&client, "group-settings").await;
    client.close().await.unwrap();
}
