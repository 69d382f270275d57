//! NUL-terminated path buffers on the stack, filled from config strings or fd numbers.

use core::ffi::CStr;

use rustix::fd::{AsRawFd, BorrowedFd};

use crate::error::{At, InitError, Reason, Step};
use crate::json::JStr;
use crate::text::{self, Full, Part, Sink};

/// `PATH_MAX`, the kernel's limit for a path argument, NUL included.
pub const PATH_MAX: usize = 4096;

/// A path of at most `PATH_MAX - 1` bytes with no interior NUL, NUL-terminated.
#[derive(Debug)]
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
