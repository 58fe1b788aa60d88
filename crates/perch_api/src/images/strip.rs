//! Lossless removal of metadata from PNG, WebP and GIF files: the picture's
//! chunks and blocks are copied as they are, everything that only describes
//! the file (text, EXIF, XMP, times, comments, unknown extensions) is left
//! out. Animation survives: APNG's frame chunks, WebP's ANIM/ANMF and GIF's
//! frames and looping extension are kept.
//!
//! Each function walks its format's framing with every length checked
//! against what is left, and answers `None` for a file it cannot walk;
//! whatever it returns is then decoded like any upload, so what is stored
//! is what was checked.

/// PNG chunks kept: the critical ones, and the ancillary chunks that change
/// how the picture looks or moves (transparency, colour space, APNG).
/// Text (`tEXt`, `zTXt`, `iTXt`), `eXIf`, `tIME` and anything unknown go.
const PNG_KEPT: [&[u8; 4]; 18] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCV", b"cLLI",
];

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A PNG without its metadata chunks; `None` if its chunk framing is broken
/// or it has a critical chunk we do not know.
pub fn png(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut rest = bytes.strip_prefix(PNG_SIGNATURE)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(PNG_SIGNATURE);
    loop {
        let length = usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
        let kind: &[u8; 4] = rest.get(4..8)?.try_into().ok()?;
        // Length, type, data and CRC.
        let whole = rest.get(..length.checked_add(12)?)?;
        if PNG_KEPT.contains(&kind) {
            out.extend_from_slice(whole);
        } else if kind[0].is_ascii_uppercase() {
            return None;
        }
        rest = &rest[whole.len()..];
        if kind == b"IEND" {
            return Some(out);
        }
    }
}

/// One RIFF chunk: its four-character code, its data, and its whole extent
/// in the input (with the pad byte of odd lengths).
struct RiffChunk<'a> {
    code: &'a [u8],
    data: &'a [u8],
    extent: usize,
}

/// The chunk at the start of `area`; a last chunk missing only its pad byte
/// is accepted.
fn riff_chunk(area: &[u8]) -> Option<RiffChunk<'_>> {
    let code = area.get(..4)?;
    let length = usize::try_from(u32::from_le_bytes(area.get(4..8)?.try_into().ok()?)).ok()?;
    let end = length.checked_add(8)?;
    let data = area.get(8..end)?;
    let extent = (end + (length & 1)).min(area.len());
    Some(RiffChunk { code, data, extent })
}

fn push_riff_chunk(out: &mut Vec<u8>, code: &[u8], data: &[u8]) -> Option<()> {
    out.extend_from_slice(code);
    out.extend_from_slice(&u32::try_from(data.len()).ok()?.to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    Some(())
}

/// The chunks of `area` whose code is in `kept`, re-framed.
fn riff_chunks(mut area: &[u8], kept: &[&[u8; 4]], out: &mut Vec<u8>) -> Option<()> {
    while !area.is_empty() {
        let chunk = riff_chunk(area)?;
        if chunk.code == b"VP8X" {
            // Flags: the file no longer has EXIF (0x08) or XMP (0x04).
            let mut header = chunk.data.to_vec();
            *header.first_mut()? &= !0x0C;
            if header.len() < 10 {
                return None;
            }
            push_riff_chunk(out, chunk.code, &header)?;
        } else if chunk.code == b"ANMF" {
            // A frame: a 16-byte header, then the frame's own chunks.
            let header = chunk.data.get(..16)?;
            let mut frame = header.to_vec();
            riff_chunks(&chunk.data[16..], &[b"ALPH", b"VP8 ", b"VP8L"], &mut frame)?;
            push_riff_chunk(out, chunk.code, &frame)?;
        } else if kept.iter().any(|code| &code[..] == chunk.code) {
            push_riff_chunk(out, chunk.code, chunk.data)?;
        }
        area = &area[chunk.extent..];
    }
    Some(())
}

/// A WebP without its `EXIF` and `XMP ` chunks (and with the extended
/// header's flags saying so); `None` if its RIFF framing is broken.
pub fn webp(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(..4)? != b"RIFF" || bytes.get(8..12)? != b"WEBP" {
        return None;
    }
    let size = usize::try_from(u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?)).ok()?;
    let area = bytes.get(12..size.checked_add(8)?)?;
    let mut body = b"WEBP".to_vec();
    riff_chunks(
        area,
        &[
            b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L",
        ],
        &mut body,
    )?;
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&u32::try_from(body.len()).ok()?.to_le_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

/// The GIF data sub-blocks at the start of `bytes` up to and including the
/// terminator: their length.
fn gif_sub_blocks(bytes: &[u8]) -> Option<usize> {
    let mut at = 0usize;
    loop {
        let size = usize::from(*bytes.get(at)?);
        at = at.checked_add(1 + size)?;
        if size == 0 {
            return Some(at);
        }
        bytes.get(..at)?;
    }
}

/// Size in bytes of a colour table announced by a packed field.
fn gif_colour_table(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// A GIF without comments, plain-text blocks and application extensions
/// other than the looping one (`NETSCAPE2.0` / `ANIMEXTS1.0`), which is
/// kept so that an animation still loops. `None` if its block structure is
/// broken.
pub fn gif(bytes: &[u8]) -> Option<Vec<u8>> {
    // Header and logical screen descriptor, then the global colour table.
    let screen = bytes.get(..13)?;
    let start = 13usize.checked_add(gif_colour_table(screen[10]))?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..start)?);
    let mut rest = &bytes[start..];
    // A graphic control extension applies to the next image; it is held
    // until that image comes, and dropped with a plain-text block.
    let mut control: Option<&[u8]> = None;
    loop {
        match rest.first() {
            // A clean end without a trailer: add it.
            None => {
                out.push(0x3B);
                return Some(out);
            }
            Some(0x3B) => {
                out.push(0x3B);
                return Some(out);
            }
            Some(0x2C) => {
                let descriptor = rest.get(..10)?;
                let table = gif_colour_table(descriptor[9]);
                // Descriptor, local table, LZW minimum code size, data.
                let data_start = 10usize.checked_add(table)?.checked_add(1)?;
                let length = data_start.checked_add(gif_sub_blocks(rest.get(data_start..)?)?)?;
                if let Some(control) = control.take() {
                    out.extend_from_slice(control);
                }
                out.extend_from_slice(rest.get(..length)?);
                rest = &rest[length..];
            }
            Some(0x21) => {
                let label = *rest.get(1)?;
                let length = 2usize.checked_add(gif_sub_blocks(rest.get(2..)?)?)?;
                let block = rest.get(..length)?;
                match label {
                    0xF9 => control = Some(block),
                    0x01 => control = None,
                    0xFF if matches!(
                        block.get(2..14),
                        Some(b"\x0BNETSCAPE2.0" | b"\x0BANIMEXTS1.0")
                    ) =>
                    {
                        out.extend_from_slice(block)
                    }
                    _ => {}
                }
                rest = &rest[length..];
            }
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn broken_framing_is_refused() {
        assert_eq!(png(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"), None);
        assert_eq!(webp(b"RIFF\xff\0\0\0WEBPVP8 "), None);
        assert_eq!(gif(b"GIF89a\x01\0\x01\0\x80\0\0"), None);
        assert_eq!(gif(b"GIF89a\x01\0\x01\0\0\0\0\x2c\0\0"), None);
    }

    #[test]
    fn gif_comment_goes_and_loop_stays() {
        let mut gif_bytes = b"GIF89a\x01\0\x01\0\0\0\0".to_vec();
        gif_bytes.extend(b"\x21\xFE\x05hello\0");
        gif_bytes.extend(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\0\0\0");
        gif_bytes.extend(b"\x21\xFF\x0BXMP DataXMP\x02hi\0");
        gif_bytes.extend(b"\x21\xF9\x04\0\0\0\0\0");
        gif_bytes.extend(b"\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0");
        gif_bytes.push(0x3B);
        let out = gif(&gif_bytes).unwrap();
        let mut expected = b"GIF89a\x01\0\x01\0\0\0\0".to_vec();
        expected.extend(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\0\0\0");
        expected.extend(b"\x21\xF9\x04\0\0\0\0\0");
        expected.extend(b"\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0");
        expected.push(0x3B);
        assert_eq!(out, expected);
    }

    #[test]
    fn webp_exif_goes_and_flags_follow() {
        let mut body = b"WEBP".to_vec();
        push_riff_chunk(
            &mut body,
            b"VP8X",
            &[0x08 | 0x04 | 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        )
        .unwrap();
        push_riff_chunk(&mut body, b"VP8L", b"abc").unwrap();
        push_riff_chunk(&mut body, b"EXIF", b"GPS!").unwrap();
        push_riff_chunk(&mut body, b"XMP ", b"<x/>").unwrap();
        let mut file = b"RIFF".to_vec();
        file.extend((body.len() as u32).to_le_bytes());
        file.extend(&body);
        let out = webp(&file).unwrap();
        let mut expected = b"WEBP".to_vec();
        push_riff_chunk(&mut expected, b"VP8X", &[0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        push_riff_chunk(&mut expected, b"VP8L", b"abc").unwrap();
        assert_eq!(&out[8..], &expected[..]);
        assert_eq!(
            u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize,
            out.len() - 8
        );
    }
}
