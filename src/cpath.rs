//! NUL-terminated path buffers on the stack, filled from config strings or fd numbers.

use core::ffi::CStr;

use rustix::fd::{AsRawFd, BorrowedFd};

use crate::error::{At, InitError, Reason, Step};
use crate::json::JStr;
use crate::text::{self, Full, Part, Sink};

/// `PATH_MAX`, the kernel's limit for a path argument, NUL included.
pub const PATH_MAX: usize = 4096;

/// A path of at most `PATH_MAX - 1` bytes with no interior NUL, NUL-terminated.
#[derive(Debug, Clone)]
pub struct CPath {
    buf: [u8; PATH_MAX],
    len: usize,
}

impl CPath {
    /// Decode a config string; fails on NUL bytes (`\u0000`) and on paths over `PATH_MAX`.
    pub fn decode(s: JStr<'_>, step: Step, at: At) -> Result<CPath, InitError> {
        let mut p = CPath {
            buf: [0; PATH_MAX],
            len: 0,
        };
        let room = p.buf.get_mut(..PATH_MAX - 1).unwrap_or_default();
        p.len = s
            .decode_into(room)
            .ok_or_else(|| InitError::invalid(step, at, Reason::LongerThanPATHMAX))?;
        if p.bytes().contains(&0) {
            return Err(InitError::invalid(step, at, Reason::ContainsANULByte));
        }
        Ok(p)
    }

    /// The path made lexical, as runc's `CleanPath` makes mount destinations: `.` and empty
    /// components dropped, `..` taking one away (never above `/`). Nothing is resolved: the
    /// result is then resolved inside the root, and no directory a `..` stepped out of is made.
    pub fn clean(&mut self) {
        let mut out = 0;
        let mut i = 0;
        while i < self.len {
            let end = self
                .buf
                .get(i..self.len)
                .and_then(|r| r.iter().position(|&c| c == b'/'))
                .map_or(self.len, |e| i + e);
            match self.buf.get(i..end).unwrap_or_default() {
                b"" | b"." => {}
                b".." => {
                    out = self
                        .buf
                        .get(..out)
                        .and_then(|o| o.iter().rposition(|&c| c == b'/'))
                        .unwrap_or(0);
                }
                _ => {
                    if let Some(slash) = self.buf.get_mut(out) {
                        *slash = b'/';
                    }
                    self.buf.copy_within(i..end, out + 1);
                    out += 1 + end - i;
                }
            }
            i = end + 1;
        }
        if out == 0 {
            if let Some(slash) = self.buf.get_mut(0) {
                *slash = b'/';
            }
            out = 1;
        }
        self.len = out;
        if let Some(nul) = self.buf.get_mut(out) {
            *nul = 0;
        }
    }

    /// The empty path, to be written into.
    pub fn empty() -> CPath {
        CPath {
            buf: [0; PATH_MAX],
            len: 0,
        }
    }

    /// `/proc/self/fd/<fd>`: the magic link through which a mount or reopen reaches exactly the
    /// file `fd` refers to, never a path that could be swapped.
    pub fn proc_fd(fd: BorrowedFd<'_>) -> CPath {
        let mut p = CPath {
            buf: [0; PATH_MAX],
            len: 0,
        };
        // 14 bytes of prefix plus at most 11 digits always fit.
        let _ = text::write(
            &mut p,
            &[
                Part::S("/proc/self/fd/"),
                Part::I(i64::from(fd.as_raw_fd())),
            ],
        );
        p
    }

    /// The bytes, without the NUL.
    pub fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// As a C string.
    pub fn as_cstr(&self) -> &CStr {
        // Interior NULs are excluded by construction and `buf[len]` is 0.
        CStr::from_bytes_until_nul(self.buf.get(..=self.len).unwrap_or(b"\0")).unwrap_or(c"")
    }
}

impl Sink for CPath {
    /// Append `bytes`; a NUL or going over `PATH_MAX` is refused.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len + bytes.len();
        if end >= PATH_MAX || bytes.contains(&0) {
            return Err(Full);
        }
        self.buf
            .get_mut(self.len..end)
            .ok_or(Full)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_is_lexical() {
        for (path, clean) in [
            ("/x/../y", "/y"),
            ("/../a/./b//", "/a/b"),
            ("/", "/"),
            ("/..", "/"),
            ("/a/b/../../c/", "/c"),
            ("//proc/.//cpuinfo", "/proc/cpuinfo"),
        ] {
            let mut p = CPath::empty();
            Sink::put(&mut p, path.as_bytes()).expect("fits");
            p.clean();
            assert_eq!(p.bytes(), clean.as_bytes(), "{path}");
            assert_eq!(p.as_cstr().to_bytes(), clean.as_bytes(), "{path}");
        }
    }
}
