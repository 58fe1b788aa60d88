//! Uploaded images lose their metadata: GPS EXIF and comments in JPEGs,
//! text, EXIF and time chunks in PNGs, EXIF and XMP in WebPs, comments and
//! XMP in GIFs, for attachments and for avatars and headers alike. What is
//! served still decodes to the same picture size, and a GIF still animates.

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::{AnimationDecoder, DynamicImage, Frame, ImageFormat, RgbImage, RgbaImage};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::statuses::user;
use crate::support::{TestApp, spawn_app};

/// The text every piece of metadata carries; it must never be served.
const SECRET: &[u8] = b"GPS-SECRET 51.5007N 0.1246W";
const WIDTH: u32 = 120;
const HEIGHT: u32 = 80;

fn picture(format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        image::Rgb([(x * 2) as u8, (y * 3) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image)
        .write_to(&mut out, format)
        .expect("encodes");
    out.into_inner()
}

/// A big-endian TIFF (EXIF) block: an image description holding
/// [`SECRET`] and a GPS IFD with a latitude.
fn exif_tiff() -> Vec<u8> {
    let mut description = SECRET.to_vec();
    description.push(0);
    let description_at = 8 + 2 + 2 * 12 + 4;
    let gps_at = description_at + description.len() as u32;
    let rationals_at = gps_at + 2 + 2 * 12 + 4;
    let mut tiff = b"MM\0*\0\0\0\x08".to_vec();
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend(tag.to_be_bytes());
        tiff.extend(kind.to_be_bytes());
        tiff.extend(count.to_be_bytes());
        tiff.extend(value);
    };
    tiff.extend(2u16.to_be_bytes());
    entry(
        &mut tiff,
        0x010E,
        2,
        description.len() as u32,
        description_at.to_be_bytes(),
    );
    entry(&mut tiff, 0x8825, 4, 1, gps_at.to_be_bytes());
    tiff.extend(0u32.to_be_bytes());
    tiff.extend(&description);
    tiff.extend(2u16.to_be_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x0002, 5, 3, rationals_at.to_be_bytes());
    tiff.extend(0u32.to_be_bytes());
    for (numerator, denominator) in [(51u32, 1u32), (30, 1), (27, 10)] {
        tiff.extend(numerator.to_be_bytes());
        tiff.extend(denominator.to_be_bytes());
    }
    tiff
}

fn jpeg_with_metadata() -> Vec<u8> {
    let jpeg = picture(ImageFormat::Jpeg);
    let segment = |marker: u8, data: &[u8]| {
        let mut out = vec![0xFF, marker];
        out.extend(u16::try_from(data.len() + 2).expect("small").to_be_bytes());
        out.extend(data);
        out
    };
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(exif_tiff());
    let mut out = jpeg[..2].to_vec();
    out.extend(segment(0xE1, &app1));
    out.extend(segment(0xFE, SECRET));
    out.extend(&jpeg[2..]);
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len())
        .expect("small")
        .to_be_bytes()
        .to_vec();
    out.extend(kind);
    out.extend(data);
    out.extend(crate::media::crc32(&out[4..]).to_be_bytes());
    out
}

fn png_with_metadata() -> Vec<u8> {
    let png = picture(ImageFormat::Png);
    // Signature and IHDR, then the metadata, then the rest.
    let mut out = png[..33].to_vec();
    let mut text = b"Comment\0".to_vec();
    text.extend(SECRET);
    out.extend(png_chunk(b"tEXt", &text));
    let mut international = b"Description\0\0\0en\0\0".to_vec();
    international.extend(SECRET);
    out.extend(png_chunk(b"iTXt", &international));
    out.extend(png_chunk(b"eXIf", &exif_tiff()));
    out.extend(png_chunk(b"tIME", &[0x07, 0xEA, 12, 2, 19, 0, 0]));
    out.extend(&png[33..]);
    out
}

fn webp_chunk(code: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = code.to_vec();
    out.extend(u32::try_from(data.len()).expect("small").to_le_bytes());
    out.extend(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// The encoder's simple (VP8L) WebP in the extended format, with EXIF and
/// XMP chunks announced in its VP8X header.
fn webp_with_metadata() -> Vec<u8> {
    let simple = picture(ImageFormat::WebP);
    assert_eq!(&simple[12..16], b"VP8L", "a lossless WebP");
    let mut header = vec![0x08 | 0x04, 0, 0, 0];
    header.extend(&(WIDTH - 1).to_le_bytes()[..3]);
    header.extend(&(HEIGHT - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(webp_chunk(b"VP8X", &header));
    body.extend(&simple[12..]);
    body.extend(webp_chunk(b"EXIF", &exif_tiff()));
    let mut xmp = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">".to_vec();
    xmp.extend(SECRET);
    xmp.extend(b"</x:xmpmeta>");
    body.extend(webp_chunk(b"XMP ", &xmp));
    let mut out = b"RIFF".to_vec();
    out.extend(u32::try_from(body.len()).expect("small").to_le_bytes());
    out.extend(body);
    out
}

/// A looping two-frame GIF with a comment and an XMP application
/// extension before its trailer.
fn gif_with_metadata() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).expect("repeat");
        for shade in [40u8, 200] {
            let frame = RgbaImage::from_pixel(WIDTH, HEIGHT, image::Rgba([shade, 10, 10, 255]));
            encoder.encode_frame(Frame::new(frame)).expect("frame");
        }
    }
    assert_eq!(out.pop(), Some(0x3B), "the trailer");
    out.extend([0x21, 0xFE, SECRET.len() as u8]);
    out.extend(SECRET);
    out.push(0);
    out.extend(b"\x21\xFF\x0BXMP DataXMP");
    out.push(SECRET.len() as u8);
    out.extend(SECRET);
    out.extend([0, 0x3B]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A file name, the upload, and what must not survive besides [`SECRET`].
type Upload = (&'static str, Vec<u8>, Vec<&'static [u8]>);

/// Every image type with its metadata.
fn uploads() -> Vec<Upload> {
    vec![
        ("a.jpg", jpeg_with_metadata(), vec![b"Exif\0\0", b"MM\0*"]),
        (
            "a.png",
            png_with_metadata(),
            vec![b"tEXt", b"iTXt", b"eXIf", b"tIME", b"MM\0*"],
        ),
        (
            "a.webp",
            webp_with_metadata(),
            vec![b"EXIF", b"XMP ", b"MM\0*"],
        ),
        ("a.gif", gif_with_metadata(), vec![b"XMP DataXMP"]),
    ]
}

async fn fetch(app: &TestApp, url: &str) -> Vec<u8> {
    let response = app.client.get(url).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.bytes().await.expect("body").to_vec()
}

/// `served` has none of the metadata of the upload `name` and is still
/// its picture.
fn assert_clean(name: &str, served: &[u8], gone: &[&[u8]]) {
    assert!(!contains(served, SECRET), "{name}: metadata text served");
    for marker in gone {
        assert!(!contains(served, marker), "{name}: {marker:?} served");
    }
    let image = image::load_from_memory(served).expect("still an image");
    assert_eq!((image.width(), image.height()), (WIDTH, HEIGHT), "{name}");
    if name.ends_with(".gif") {
        let frames = GifDecoder::new(Cursor::new(served))
            .expect("a GIF")
            .into_frames()
            .collect_frames()
            .expect("frames");
        assert_eq!(frames.len(), 2, "the animation is kept");
        assert!(contains(served, b"NETSCAPE2.0"), "and it still loops");
    }
}

#[tokio::test]
async fn attachments_are_served_without_metadata() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    for (name, bytes, gone) in uploads() {
        assert!(contains(&bytes, SECRET), "{name}: the upload has metadata");
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name));
        let response = app
            .client
            .post(app.url("/api/v2/media"))
            .bearer_auth(&ann.token)
            .multipart(form)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let media: Value = response.json().await.expect("json");
        assert_eq!(media["meta"]["original"]["width"], WIDTH, "{name}");
        let served = fetch(&app, media["url"].as_str().expect("url")).await;
        assert_clean(name, &served, &gone);
        let preview = fetch(&app, media["preview_url"].as_str().expect("preview")).await;
        assert!(!contains(&preview, SECRET), "{name}: preview metadata");
    }
}

#[tokio::test]
async fn avatars_and_headers_are_served_without_metadata() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    for (name, bytes, gone) in uploads() {
        for field in ["avatar", "header"] {
            let form = Form::new().part(field, Part::bytes(bytes.clone()).file_name(name));
            let response = app
                .client
                .patch(app.url("/api/v1/accounts/update_credentials"))
                .bearer_auth(&ann.token)
                .multipart(form)
                .send()
                .await
                .expect("sent");
            assert_eq!(response.status(), StatusCode::OK, "{name} as {field}");
            let account: Value = response.json().await.expect("json");
            let served = fetch(&app, account[field].as_str().expect("url")).await;
            assert_clean(name, &served, &gone);
        }
    }
}

#[tokio::test]
async fn profile_images_that_do_not_decode_are_refused() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    // A PNG signature with nothing valid after it.
    let mut broken = b"\x89PNG\r\n\x1a\n".to_vec();
    broken.extend(SECRET);
    let form = Form::new().part("avatar", Part::bytes(broken).file_name("a.png"));
    let response = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&ann.token)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["details"]["avatar"][0]["error"], "ERR_INVALID",
        "{body}"
    );
}
