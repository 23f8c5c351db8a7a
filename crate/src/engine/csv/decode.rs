//! Bytes to text in the file's encoding. Invalid sequences become U+FFFD,
//! as Java's decoders (and so Spark) replace them; a UTF-8 byte order mark
//! is dropped.

use std::borrow::Cow;

use super::options::Encoding;

/// The text of `bytes`, and how many characters had to be replaced.
pub(crate) fn decode(bytes: &[u8], encoding: Encoding) -> (Cow<'_, str>, usize) {
    match encoding {
        Encoding::Utf8 => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match std::str::from_utf8(bytes) {
                Ok(text) => (Cow::Borrowed(text), 0),
                Err(_) => {
                    let text = String::from_utf8_lossy(bytes).into_owned();
                    let replaced = text.matches('\u{FFFD}').count();
                    (Cow::Owned(text), replaced)
                }
            }
        }
        Encoding::Latin1 => {
            if bytes.is_ascii() {
                // ASCII is the same in both; no copy.
                return (Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default()), 0);
            }
            (Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()), 0)
        }
        Encoding::Utf16 | Encoding::Utf16Le | Encoding::Utf16Be => {
            let (little, body) = match (encoding, bytes) {
                (Encoding::Utf16, [0xFF, 0xFE, rest @ ..]) => (true, rest),
                (Encoding::Utf16, [0xFE, 0xFF, rest @ ..]) => (false, rest),
                (Encoding::Utf16, _) => (false, bytes),
                (Encoding::Utf16Le, [0xFF, 0xFE, rest @ ..]) => (true, rest),
                (Encoding::Utf16Be, [0xFE, 0xFF, rest @ ..]) => (false, rest),
                (e, _) => (e == Encoding::Utf16Le, bytes),
            };
            let units = body.chunks(2).map(|pair| match pair {
                [a, b] if little => u16::from_le_bytes([*a, *b]),
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0xFFFD,
            });
            let mut replaced = usize::from(body.len() % 2 == 1);
            let text: String = char::decode_utf16(units)
                .map(|c| {
                    c.unwrap_or_else(|_| {
                        replaced += 1;
                        '\u{FFFD}'
                    })
                })
                .collect();
            (Cow::Owned(text), replaced)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b", Encoding::Utf8).0, "a,b");
        assert_eq!(decode(b"caf\xE9", Encoding::Latin1).0, "café");
        let (text, bad) = decode(b"caf\xE9", Encoding::Utf8);
        assert_eq!((text.as_ref(), bad), ("caf\u{FFFD}", 1));
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain("é,1".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(decode(&le, Encoding::Utf16).0, "é,1");
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("é,1".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(decode(&be, Encoding::Utf16).0, "é,1");
        let bare: Vec<u8> = "x".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&bare, Encoding::Utf16Le).0, "x");
    }
}
