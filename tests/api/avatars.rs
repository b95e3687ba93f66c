//! `POST /users/change-avatar`: refusals, a round trip through local storage, and the S3
//! backend against a real S3-compatible server (s3s-fs).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::helpers::{Answer, Env, TestApp, spawn_app, spawn_app_with};
use crate::support::fresh_database;

pub fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = DynamicImage::ImageRgba8(RgbaImage::from_fn(width, height, |x, y| {
        Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255])
    }));
    let image = if format == ImageFormat::Jpeg { DynamicImage::ImageRgb8(image.to_rgb8()) } else { image };
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A JPEG carrying an EXIF segment with a "location" in it.
fn photo_with_metadata() -> Vec<u8> {
    let jpeg = picture(640, 480, ImageFormat::Jpeg);
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"SECRET-LOCATION 55.7558N 37.6173E");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

impl TestApp {
    pub async fn upload_avatar(&self, session: Option<&str>, form: Form) -> Answer {
        let mut request = self.client.post(format!("{}/users/change-avatar", self.address)).multipart(form);
        if let Some(session) = session {
            request = request.header("X-Auth-Session-Id", session);
        }
        let response = request.send().await.expect("upload failed");
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Answer { status, body, text, headers }
    }

    pub async fn fetch(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.unwrap()
    }
}

pub fn file(bytes: Vec<u8>, name: &str, mime: &str) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()).mime_str(mime).unwrap())
}

fn decoded(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap()
}

fn small_url(url: &str) -> String {
    url.replace("-400.jpg", "-100.jpg")
}

#[actix_web::test]
async fn an_avatar_round_trip_crops_resizes_strips_and_replaces() {
    let app = spawn_app().await;
    let (id, session) = app.register("avatar_owner").await;
    let (_, other) = app.register("avatar_viewer").await;
    // Read once before: the user is now in the server's user cache.
    let before = app.get(&format!("/users/{id}"), Some(&other)).await;
    assert!(before.data().get("avatar").is_none());

    let answer = app.upload_avatar(Some(&session), file(photo_with_metadata(), "../../etc/passwd", "image/png")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let url = answer.data().as_str().unwrap().to_owned();
    let prefix = format!("{}/storage/users/avatars/{id}/", app.address);
    assert!(url.starts_with(&prefix) && url.ends_with("-400.jpg"), "a generated key, not the file name: {url}");

    for (url, side) in [(url.clone(), 400), (small_url(&url), 100)] {
        let response = app.fetch(&url).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let bytes = response.bytes().await.unwrap();
        let image = decoded(&bytes);
        assert_eq!((image.width(), image.height()), (side, side));
        assert!(!bytes.windows(6).any(|w| w == b"SECRET"), "metadata is gone");
        assert!(!bytes.windows(2).any(|w| w == [0xFF, 0xE1]), "no APP1 (EXIF/XMP) segment");
    }

    // The caller and everyone else see it; the caller at once (their session is cached).
    let me = app.get("/whoami", Some(&session)).await;
    assert_eq!(me.data()["avatarUrl"], url.as_str());
    assert!(me.data()["avatarUpdatedAt"].is_string());
    let seen = app.get(&format!("/users/{id}"), Some(&other)).await;
    assert_eq!(seen.data()["avatar"]["url"], url.as_str());
    assert!(seen.data()["avatar"]["updatedAt"].is_string());

    // A new picture replaces the old one, whose objects are deleted.
    let answer =
        app.upload_avatar(Some(&session), file(picture(300, 500, ImageFormat::Png), "me.png", "image/png")).await;
    let new_url = answer.data().as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    assert_eq!(app.fetch(&new_url).await.status(), StatusCode::OK);
    for old in [url.clone(), small_url(&url)] {
        assert_eq!(app.fetch(&old).await.status(), StatusCode::NOT_FOUND, "{old} deleted");
    }
    let stored = stored_files(&app.storage_dir);
    assert_eq!(stored.len(), 2, "only the current avatar's two objects remain: {stored:?}");
    assert_eq!(app.get("/whoami", Some(&session)).await.data()["avatarUrl"], new_url.as_str());
}

fn stored_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// A PNG header claiming `side`×`side` pixels, with no pixel data.
fn pixel_flood(side: u32) -> Vec<u8> {
    png_header(side, side, 8)
}

/// A PNG header claiming `width`×`height` RGBA pixels of `bits` per channel, with no pixel data.
fn png_header(width: u32, height: u32, bits: u8) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[bits, 6, 0, 0, 0]);
    let crc = crc32(&png[12..]);
    png.extend_from_slice(&crc.to_be_bytes());
    for chunk in [b"IDAT", b"IEND"] {
        png.extend_from_slice(&0u32.to_be_bytes());
        png.extend_from_slice(chunk);
        png.extend_from_slice(&crc32(chunk).to_be_bytes());
    }
    png
}

#[actix_web::test]
async fn uploads_that_are_not_acceptable_avatars_are_refused_clearly() {
    let app = spawn_app().await;
    let (_, session) = app.register("refused_avatar").await;
    let s = Some(session.as_str());

    let anonymous = app.upload_avatar(None, file(picture(10, 10, ImageFormat::Png), "a.png", "image/png")).await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
    assert_eq!(anonymous.error_type(), "Not Authenticated");

    let json = app.post("/users/change-avatar", s, serde_json::json!({"file": "x"})).await;
    assert_eq!(json.status, StatusCode::BAD_REQUEST);
    assert_eq!(json.error_message(), "request Content-Type isn't multipart/form-data");

    let wrong_field = Form::new().part("avatar", Part::bytes(picture(10, 10, ImageFormat::Png)).file_name("a.png"));
    let answer = app.upload_avatar(s, wrong_field).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error_message(), "http: no such file");

    // Decided by content: a name and a header saying PNG do not make text an image…
    let text = app.upload_avatar(s, file(b"just some text".to_vec(), "avatar.png", "image/png")).await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", text.text);
    assert_eq!(text.error_message(), "Avatars must be PNG, JPEG, WebP or GIF images");
    // …a real image of another format is refused too…
    let bmp = app.upload_avatar(s, file(b"BM\x46\0\0\0\0\0\0\0".to_vec(), "a.jpg", "image/jpeg")).await;
    assert_eq!(bmp.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
    let svg = app.upload_avatar(s, file(svg, "a.svg", "image/svg+xml")).await;
    assert_eq!(svg.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // …and a WebP named .txt is accepted.
    let webp = app.upload_avatar(s, file(picture(20, 20, ImageFormat::WebP), "notes.txt", "text/plain")).await;
    assert_eq!(webp.status, StatusCode::OK, "{}", webp.text);

    let truncated = picture(50, 50, ImageFormat::Png)[..60].to_vec();
    let answer = app.upload_avatar(s, file(truncated, "a.png", "image/png")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.error_message().starts_with("The image cannot be read"), "{}", answer.text);

    let answer = app.upload_avatar(s, file(pixel_flood(20_000), "flood.png", "image/png")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error_message(), "The image is 20000×20000 pixels; at most 40 megapixels are accepted");

    let mut big = picture(10, 10, ImageFormat::Png);
    big.resize(5 * 1024 * 1024 + 1, 0);
    let answer = app.upload_avatar(s, file(big, "big.png", "image/png")).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.text);

    // Nothing refused was stored, and the user still has the one accepted avatar.
    assert_eq!(stored_files(&app.storage_dir).len(), 2);
    let me = app.get("/whoami", s).await;
    assert_eq!(me.data()["avatarUrl"], webp.data().as_str().unwrap());
}

#[actix_web::test]
async fn large_canvases_under_the_pixel_limit_are_decoded_within_the_budget_or_refused() {
    let app = spawn_app().await;
    let (_, session) = app.register("large_canvas").await;
    let s = Some(session.as_str());

    // 39.7 megapixels at 8 bits per channel, a small file: decoded (119 MB), and nothing else
    // of that size is allocated on the way to 400×400.
    let canvas = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(6_300, 6_300, image::Rgb([200, 30, 30])));
    let mut png = Cursor::new(Vec::new());
    canvas.write_to(&mut png, ImageFormat::Png).unwrap();
    drop(canvas);
    let stored = app.upload_avatar(s, file(png.into_inner(), "canvas.png", "image/png")).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text);
    let large = decoded(&app.fetch(stored.data().as_str().unwrap()).await.bytes().await.unwrap());
    assert_eq!((large.width(), large.height()), (400, 400));
    let [r, g, b] = large.to_rgb8().get_pixel(200, 200).0;
    assert!(r > 180 && g < 60 && b < 60, "the colour survives, got {r},{g},{b}");

    // 20.5 megapixels, under the pixel limit, but 16 bits per channel: 164 MB decoded, over the
    // budget. Refused from the header, before any of it is allocated.
    let answer = app.upload_avatar(s, file(png_header(5_000, 4_100, 16), "deep.png", "image/png")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(answer.error_type(), "User Service Error");
    assert_eq!(answer.error_message(), "The image needs 164 MB once decoded; at most 160 MB are accepted");
}

/// An S3-compatible server of our own on 127.0.0.1 (s3s-fs, installed by `scripts/test`),
/// serving a directory; stopped when dropped.
struct S3Server {
    endpoint: String,
    dir: std::path::PathBuf,
    process: std::process::Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const S3_KEY: &str = "nosebook-test";
const S3_SECRET: &str = "nosebook-test-secret";
const BUCKET: &str = "nosebook-media";

async fn s3_server() -> S3Server {
    let binary = std::env::var("NOSEBOOK_TEST_S3S_FS").unwrap_or_else(|_| {
        let cargo_bin = std::env::var("HOME").map(|h| format!("{h}/.cargo/bin/s3s-fs")).unwrap_or_default();
        if Path::new(&cargo_bin).exists() { cargo_bin } else { "s3s-fs".into() }
    });
    let dir = std::env::temp_dir().join(format!("nosebook-s3-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join(BUCKET)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let process = std::process::Command::new(&binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", S3_KEY, "--secret-key", S3_SECRET])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary} ({e}); scripts/test installs it (cargo install s3s-fs)"));
    let server = S3Server { endpoint: format!("http://127.0.0.1:{port}"), dir, process };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("s3s-fs did not start listening on {port}");
}

#[actix_web::test]
async fn avatars_go_to_an_s3_compatible_server() {
    let s3 = s3_server().await;
    let env = [
        ("NOSEBOOK_STORAGE", "s3".to_owned()),
        ("NOSEBOOK_S3_ENDPOINT", s3.endpoint.clone()),
        ("NOSEBOOK_S3_BUCKET", BUCKET.to_owned()),
        ("NOSEBOOK_S3_ACCESS_KEY_ID", S3_KEY.to_owned()),
        ("NOSEBOOK_S3_SECRET_ACCESS_KEY", S3_SECRET.to_owned()),
    ];
    let app = spawn_app_with(Env::Testing, fresh_database().await, None, &env).await;
    let (id, session) = app.register("s3_avatar").await;

    let answer =
        app.upload_avatar(Some(&session), file(picture(240, 180, ImageFormat::Gif), "a.gif", "image/gif")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let url = answer.data().as_str().unwrap().to_owned();
    let key = url.strip_prefix(&format!("{}/{BUCKET}/", s3.endpoint)).expect("a URL on the S3 server").to_owned();
    assert!(key.starts_with(&format!("users/avatars/{id}/")), "{key}");

    // The objects are on the S3 server's disk, as JPEGs of the right sizes.
    let object = |key: &str| s3.dir.join(BUCKET).join(key);
    for (key, side) in [(key.clone(), 400), (small_url(&key), 100)] {
        let bytes = std::fs::read(object(&key)).unwrap_or_else(|e| panic!("{key} on the S3 server: {e}"));
        let image = decoded(&bytes);
        assert_eq!((image.width(), image.height()), (side, side));
    }
    // The server reads them back through the same interface.
    let proxied = app.fetch(&format!("{}/storage/{key}", app.address)).await;
    assert_eq!(proxied.status(), StatusCode::OK);
    assert_eq!(decoded(&proxied.bytes().await.unwrap()).width(), 400);

    // Replacing deletes the old objects from the S3 server.
    let answer =
        app.upload_avatar(Some(&session), file(picture(64, 64, ImageFormat::Jpeg), "b.jpg", "image/jpeg")).await;
    let new_key =
        answer.data().as_str().unwrap().strip_prefix(&format!("{}/{BUCKET}/", s3.endpoint)).unwrap().to_owned();
    assert!(object(&new_key).exists());
    assert!(!object(&key).exists() && !object(&small_url(&key)).exists(), "old objects deleted");
    assert!(stored_files(&app.storage_dir).is_empty(), "nothing went to the local directory");
}
