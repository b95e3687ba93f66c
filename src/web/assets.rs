//! The app's static files, compiled into the binary and served under names that carry a hash of
//! their content (`app.1f2e3d4c.css`): a new release changes the name, so browsers may cache each
//! file forever.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

struct File {
    /// `stem.ext`, as pages ask for it.
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const FILES: [File; 4] = [
    File {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../web/assets/app.css"),
    },
    File {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/assets/app.js"),
    },
    // htmx 2.0.11 (BSD Zero Clause License, web/assets/htmx.LICENSE), from npm's `htmx.org`.
    File {
        name: "htmx.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../web/assets/htmx.min.js"),
    },
    File { name: "favicon.svg", content_type: "image/svg+xml", bytes: include_bytes!("../../web/assets/favicon.svg") },
];

/// Each file's served name, in the order of `FILES`.
static SERVED: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|file| {
            let digest = Sha256::digest(file.bytes);
            let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            let (stem, ext) = file.name.rsplit_once('.').unwrap_or((file.name, ""));
            format!("{stem}.{hash}.{ext}")
        })
        .collect()
});

/// The URL of `name` (`app.css`) as pages link it.
pub fn url(name: &str) -> String {
    let served = FILES.iter().position(|f| f.name == name).map(|i| SERVED[i].as_str()).unwrap_or(name);
    format!("{}/assets/{served}", super::PREFIX)
}

/// Every embedded file and its bytes (the size budget's test reads them).
pub fn all() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    FILES.iter().map(|f| (f.name, f.bytes))
}

pub async fn serve(name: web::Path<String>) -> HttpResponse {
    match SERVED.iter().position(|served| *served == *name) {
        Some(i) => HttpResponse::Ok()
            .content_type(FILES[i].content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(FILES[i].bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `/favicon.ico`, where browsers and crawlers look for an icon whatever the page links: the same
/// picture, as SVG (the URL's name is a convention, not a format).
pub async fn favicon() -> HttpResponse {
    let Some(icon) = FILES.iter().find(|f| f.name == "favicon.svg") else {
        return HttpResponse::NotFound().finish();
    };
    HttpResponse::Ok()
        .content_type(icon.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(icon.bytes)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    /// The budget: the app's scripts and styles under 100 KB gzip-compressed, in all.
    #[test]
    fn scripts_and_styles_fit_the_budget() {
        let compressed: usize = super::all()
            .map(|(_, bytes)| {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(bytes).unwrap();
                gz.finish().unwrap().len()
            })
            .sum();
        assert!(compressed < 100 * 1024, "{compressed} bytes compressed");
    }

    #[test]
    fn names_carry_the_content_hash() {
        let css = super::url("app.css");
        assert!(
            css.starts_with("/app/assets/app.")
                && css.ends_with(".css")
                && css.len() == "/app/assets/app.12345678.css".len()
        );
    }
}
