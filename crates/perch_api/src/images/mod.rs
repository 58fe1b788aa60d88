//! Decoding uploaded images into what is stored: metadata removed from
//! every format, dimensions limited before any pixel is decoded.
//!
//! PNG, WebP and GIF files lose their metadata losslessly ([`strip`]) and
//! are stored as stripped, animation included; JPEGs are decoded, turned
//! upright by their EXIF orientation and re-encoded, which leaves all of
//! their APPn and COM segments (EXIF, GPS, XMP, ICC, comments) behind.
//! Either way the bytes that are stored are the bytes that were decoded.
//! Decodes wait their turn ([`limit::DecodeLimit`]).

pub mod limit;
pub mod strip;

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::media_files::ImageType;

/// Most pixels an image may have (Mastodon's limit).
pub const MAX_PIXELS: u64 = 7680 * 4320;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("Validation failed: File has more than {MAX_PIXELS} pixels")]
    TooManyPixels,
    #[error("Validation failed: File could not be read as an image")]
    Unreadable,
}

/// An upload made safe to store: its bytes and its (first) picture.
pub struct Cleaned {
    pub stored: Vec<u8>,
    pub image: DynamicImage,
}

fn format_of(kind: ImageType) -> ImageFormat {
    match kind {
        ImageType::Jpeg => ImageFormat::Jpeg,
        ImageType::Png => ImageFormat::Png,
        ImageType::Gif => ImageFormat::Gif,
        ImageType::Webp => ImageFormat::WebP,
    }
}

/// Encode as a JPEG (quality 90) or, for every other type, as a PNG; the
/// encoders write no metadata.
pub fn encode(image: &DynamicImage, kind: ImageType) -> Result<Vec<u8>, ProcessError> {
    let mut out = Cursor::new(Vec::new());
    match kind {
        ImageType::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
            image
                .to_rgb8()
                .write_with_encoder(encoder)
                .map_err(|_| ProcessError::Unreadable)?;
        }
        _ => image
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|_| ProcessError::Unreadable)?,
    }
    Ok(out.into_inner())
}

/// Strip, check and decode an upload of type `kind`. Blocking and
/// CPU-heavy: run it off the async runtime.
pub fn clean(bytes: Vec<u8>, kind: ImageType) -> Result<Cleaned, ProcessError> {
    let stripped = match kind {
        ImageType::Jpeg => bytes,
        ImageType::Png => strip::png(&bytes).ok_or(ProcessError::Unreadable)?,
        ImageType::Webp => strip::webp(&bytes).ok_or(ProcessError::Unreadable)?,
        ImageType::Gif => strip::gif(&bytes).ok_or(ProcessError::Unreadable)?,
    };
    let format = format_of(kind);
    let (width, height) = ImageReader::with_format(Cursor::new(&stripped), format)
        .into_dimensions()
        .map_err(|_| ProcessError::Unreadable)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ProcessError::TooManyPixels);
    }
    let mut reader = ImageReader::with_format(Cursor::new(&stripped), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|_| ProcessError::Unreadable)?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| ProcessError::Unreadable)?;
    let stored = if kind == ImageType::Jpeg {
        if let Some(orientation) = orientation {
            image.apply_orientation(orientation);
        }
        encode(&image, ImageType::Jpeg)?
    } else {
        stripped
    };
    Ok(Cleaned { stored, image })
}
