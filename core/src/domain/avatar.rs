//! Avatar images: what is accepted, and what is stored.
//!
//! Accepted: PNG, JPEG, WebP and GIF, recognised by their magic bytes (never by name or header),
//! at most [`MAX_BYTES`] and [`MAX_PIXELS`] — the pixel count is read from the header, before
//! anything is decoded, so a small file that claims a huge canvas (a pixel flood) costs nothing.
//! Decoding is bounded by [`DECODE_BUDGET`], checked from the header too: 40 megapixels at
//! 8 bits per channel fit, a 16-bit canvas fits only up to half that.
//! Stored: the centre square, re-encoded as JPEG at 400×400 and 100×100 (EXIF orientation
//! applied; no metadata survives re-encoding; transparency is flattened onto white).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView as _, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};

/// Largest upload accepted (413 beyond).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Largest canvas accepted (400 beyond): 40 megapixels.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The stored sizes, in pixels per side.
pub const LARGE: u32 = 400;
pub const SMALL: u32 = 100;
/// Content type of every stored version.
pub const CONTENT_TYPE: &str = "image/jpeg";
const JPEG_QUALITY: u8 = 85;
/// Most bytes one decode may hold: a 40-megapixel canvas at 8 bits per RGBA channel. What comes
/// after decoding works on copies of at most a quarter of the canvas (usually far less), so
/// one upload peaks at about the decoded canvas.
pub const DECODE_BUDGET: u64 = MAX_PIXELS * 4;
/// Short side a large canvas is brought down to by a cheap box filter; the fine filter then
/// works on that small copy only.
const INTERMEDIATE: u32 = 2 * LARGE;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AvatarError {
    #[error("Avatars must be PNG, JPEG, WebP or GIF images")]
    Unsupported,
    #[error("The image is {width}×{height} pixels; at most 40 megapixels are accepted")]
    TooManyPixels { width: u32, height: u32 },
    #[error("The image needs {} MB once decoded; at most {} MB are accepted", .needs / 1_000_000, DECODE_BUDGET / 1_000_000)]
    TooLargeToDecode { needs: u64 },
    #[error("The image cannot be read: {0}")]
    Unreadable(String),
}

/// The two stored versions, and a name derived from their content.
#[derive(Debug)]
pub struct Avatar {
    pub large: Vec<u8>,
    pub small: Vec<u8>,
    /// First 16 hex digits of the SHA-256 of the large version.
    pub digest: String,
}

fn unreadable(e: impl std::fmt::Display) -> AvatarError {
    AvatarError::Unreadable(e.to_string())
}

/// Checks and re-encodes an upload. CPU-bound: run it off the async runtime.
pub fn process(bytes: &[u8]) -> Result<Avatar, AvatarError> {
    let format = image::guess_format(bytes).map_err(|_| AvatarError::Unsupported)?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) {
        return Err(AvatarError::Unsupported);
    }
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    let (width, height) = reader().into_dimensions().map_err(unreadable)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(AvatarError::TooManyPixels { width, height });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(DECODE_BUDGET);
    let mut reader = reader();
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    // As `ImageReader::decode` does, which `into_decoder` does not: the output buffer counts
    // against the budget, and the decoder's own buffers get what is left.
    let needs = decoder.total_bytes();
    limits.reserve(needs).map_err(|_| AvatarError::TooLargeToDecode { needs })?;
    decoder.set_limits(limits).map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    // For an animated GIF, the first frame.
    let image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;

    let side = image.width().min(image.height());
    if side == 0 {
        return Err(unreadable("the image is empty"));
    }
    // The centre square is the same before and after orientation, so the canvas is brought down
    // first and only the small copy is oriented: nothing else of the canvas's size is allocated.
    let (width, height) = image.dimensions();
    let mut square = if side <= INTERMEDIATE || width.max(height) > 4 * side {
        // Small, or at most a quarter of the canvas: the square itself is a cheap copy.
        image.crop_imm((width - side) / 2, (height - side) / 2, side, side)
    } else {
        // A box filter over the whole canvas to a short side of INTERMEDIATE (the long side is
        // then at most four times that), then the centre square of that.
        let scaled = |n: u32| u32::try_from((u64::from(n) * u64::from(INTERMEDIATE)).div_ceil(u64::from(side)));
        let (w, h) = (scaled(width).map_err(unreadable)?, scaled(height).map_err(unreadable)?);
        let small = image.thumbnail_exact(w, h);
        drop(image);
        let side = w.min(h);
        small.crop_imm((w - side) / 2, (h - side) / 2, side, side)
    };
    square.apply_orientation(orientation);
    let large = flatten(&square.resize_exact(LARGE, LARGE, FilterType::CatmullRom));
    let small = image::imageops::resize(&large, SMALL, SMALL, FilterType::CatmullRom);
    let large = jpeg(&large)?;
    let small = jpeg(&small)?;
    let digest = Sha256::digest(&large).iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(Avatar { large, small, digest })
}

/// RGB on a white background: JPEG has no alpha.
fn flatten(image: &DynamicImage) -> RgbImage {
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

fn jpeg(image: &RgbImage) -> Result<Vec<u8>, AvatarError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(image).map_err(unreadable)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn every_accepted_format_becomes_two_square_jpegs() {
        // Wide, with a red centre and blue edges: the crop keeps the centre.
        let wide = DynamicImage::ImageRgba8(RgbaImage::from_fn(300, 100, |x, _| {
            if (100..200).contains(&x) { Rgba([255, 0, 0, 255]) } else { Rgba([0, 0, 255, 255]) }
        }));
        for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP, ImageFormat::Gif] {
            let source = match format {
                ImageFormat::Jpeg => DynamicImage::ImageRgb8(wide.to_rgb8()),
                _ => wide.clone(),
            };
            let avatar = process(&encoded(&source, format)).unwrap();
            for (bytes, side) in [(&avatar.large, LARGE), (&avatar.small, SMALL)] {
                let out = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap();
                assert_eq!((out.width(), out.height()), (side, side), "{format:?}");
                let [r, _, b] = out.to_rgb8().get_pixel(side / 2, side / 2).0;
                assert!(r > 200 && b < 60, "{format:?}: the centre is kept, got {r},{b}");
            }
            assert_eq!(avatar.digest.len(), 16);
        }
    }

    #[test]
    fn other_content_is_refused_whatever_it_is_called() {
        assert!(matches!(process(b"GIF89a\x01\x00").unwrap_err(), AvatarError::Unreadable(_)), "truncated");
        assert_eq!(process(b"<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap_err(), AvatarError::Unsupported);
        // BMP and TIFF magic bytes: real formats, not accepted ones.
        assert_eq!(process(b"BM\x46\x00\x00\x00\x00\x00").unwrap_err(), AvatarError::Unsupported);
        assert_eq!(process(b"II*\x00\x08\x00\x00\x00").unwrap_err(), AvatarError::Unsupported);
        assert_eq!(process(b"").unwrap_err(), AvatarError::Unsupported);
    }

    /// A valid PNG header claiming `width`×`height` RGBA pixels of `bits` per channel, and no
    /// pixel data after it.
    fn png_header(width: u32, height: u32, bits: u8) -> Vec<u8> {
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

    #[test]
    fn a_pixel_flood_is_refused_from_its_header() {
        assert_eq!(
            process(&png_header(10_000, 10_000, 8)).unwrap_err(),
            AvatarError::TooManyPixels { width: 10_000, height: 10_000 }
        );
    }

    #[test]
    fn a_canvas_that_decodes_beyond_the_budget_is_refused_from_its_header() {
        // 20.5 megapixels, under the pixel limit, but 16 bits per channel: 164 MB decoded.
        let needs = 5_000 * 4_100 * 8;
        assert!(needs > DECODE_BUDGET && 5_000 * 4_100 < MAX_PIXELS);
        let refused = process(&png_header(5_000, 4_100, 16)).unwrap_err();
        assert_eq!(refused, AvatarError::TooLargeToDecode { needs });
        assert_eq!(refused.to_string(), "The image needs 164 MB once decoded; at most 160 MB are accepted");
        // The same canvas at 8 bits fits: it gets as far as its (missing) pixel data.
        assert!(matches!(process(&png_header(5_000, 4_100, 8)).unwrap_err(), AvatarError::Unreadable(_)));
    }

    #[test]
    fn large_canvases_keep_their_centre_square() {
        // Over the intermediate size: through the box filter (tall) or a copy of the square
        // (wider than four squares). Red inside the centre square, blue outside.
        for (width, height) in [(1_000, 2_400), (4_500, 900)] {
            let side = width.min(height);
            let (x0, y0) = ((width - side) / 2, (height - side) / 2);
            let canvas = DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
                let inside = (x0..x0 + side).contains(&x) && (y0..y0 + side).contains(&y);
                if inside { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) }
            }));
            let avatar = process(&encoded(&canvas, ImageFormat::Png)).unwrap();
            let out = image::load_from_memory_with_format(&avatar.large, ImageFormat::Jpeg).unwrap().to_rgb8();
            assert_eq!(out.dimensions(), (LARGE, LARGE));
            for (x, y) in [(3, 3), (LARGE / 2, LARGE / 2), (LARGE - 3, LARGE - 3), (3, LARGE - 3)] {
                let [r, _, b] = out.get_pixel(x, y).0;
                assert!(r > 200 && b < 60, "{width}×{height}: red everywhere, got {r},{b} at {x},{y}");
            }
        }
    }

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
}
