//! Text for messages, log lines and paths, without `core::fmt`.
//!
//! `core::fmt`'s machinery (argument tables, padding, integer formatting) is about 6 KiB of a
//! binary budgeted at 128 KiB, and the init only ever appends strings, integers, config paths
//! and config strings. A message is a slice of [`Part`]s written by one function.

use crate::error::At;
use crate::json::JStr;

/// One piece of a message.
#[derive(Debug, Clone, Copy)]
pub enum Part<'a> {
    /// Text as is.
    S(&'a str),
    /// An unsigned integer, in decimal.
    U(u64),
    /// A signed integer, in decimal.
    I(i64),
    /// A config location: the template with its `[]` filled (`mounts[3].options[1]`).
    At(At),
    /// A config string, decoded.
    J(JStr<'a>),
}

/// The text did not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Where text can be appended.
pub trait Sink {
    /// Append `bytes`, all or nothing.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Full>;
}

/// Append every part to `out` (one copy of this code for every kind of sink).
pub fn write(out: &mut dyn Sink, parts: &[Part<'_>]) -> Result<(), Full> {
    for &part in parts {
        match part {
            Part::S(s) => out.put(s.as_bytes())?,
            Part::U(n) => unsigned(out, n)?,
            Part::I(n) => {
                if n < 0 {
                    out.put(b"-")?;
                }
                unsigned(out, n.unsigned_abs())?;
            }
            Part::At(at) => location(out, at)?,
            Part::J(s) => {
                let mut utf8 = [0u8; 4];
                for c in s.chars() {
                    out.put(c.encode_utf8(&mut utf8).as_bytes())?;
                }
            }
        }
    }
    Ok(())
}

fn unsigned(out: &mut dyn Sink, mut n: u64) -> Result<(), Full> {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put(&digits[i..])
}

/// `mounts[].options[]` with indices `[3, 1]` → `mounts[3].options[1]`.
fn location(out: &mut dyn Sink, at: At) -> Result<(), Full> {
    let mut indices = at.indices().into_iter();
    let mut rest = at.template().as_bytes();
    // Byte by byte: `str::split` would link a substring searcher for this one use.
    while let Some(open) = rest.windows(2).position(|w| w == b"[]") {
        out.put(&rest[..=open])?;
        unsigned(out, u64::from(indices.next().unwrap_or(0)))?;
        rest = &rest[open + 1..];
    }
    out.put(rest)
}

/// Append `s` as the contents of a JSON string (quotes not included).
pub fn json_str(out: &mut dyn Sink, s: &str) -> Result<(), Full> {
    for c in s.chars() {
        match c {
            '"' => out.put(b"\\\"")?,
            '\\' => out.put(b"\\\\")?,
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = c as usize;
                out.put(&[b'\\', b'u', b'0', b'0', HEX[n >> 4], HEX[n & 15]])?;
            }
            c => out.put(c.encode_utf8(&mut [0u8; 4]).as_bytes())?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Field;

    struct Buf(Vec<u8>);
    impl Sink for Buf {
        fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
            self.0.extend_from_slice(bytes);
            Ok(())
        }
    }

    fn text(parts: &[Part<'_>]) -> String {
        let mut b = Buf(Vec::new());
        write(&mut b, parts).expect("fits");
        String::from_utf8(b.0).expect("utf-8")
    }

    #[test]
    fn parts_are_written_like_format_would() {
        assert_eq!(
            text(&[Part::S("a"), Part::U(0), Part::U(u64::MAX)]),
            "a018446744073709551615"
        );
        assert_eq!(
            text(&[Part::I(-1000), Part::I(i64::MIN), Part::I(7)]),
            "-1000-92233720368547758087"
        );
        assert_eq!(
            text(&[Part::At(At::item2(Field::MountsOptionsItem, 3, 1))]),
            "mounts[3].options[1]"
        );
        assert_eq!(text(&[Part::At(At::field(Field::RootPath))]), "root.path");
        assert_eq!(
            text(&[Part::J(
                crate::json::Value::root(br#""a\u0026b""#)
                    .as_str()
                    .expect("str")
            )]),
            "a&b"
        );
        let mut b = Buf(Vec::new());
        json_str(&mut b, "q\"\\\n\u{1}é").expect("fits");
        assert_eq!(
            String::from_utf8(b.0).expect("utf-8"),
            "q\\\"\\\\\\u000a\\u0001é"
        );
    }
}
