//! NUL-terminated path buffers on the stack, filled from config strings or fd numbers.

use core::ffi::CStr;
use core::fmt::{self, Write as _};

use rustix::fd::{AsRawFd, BorrowedFd};

use crate::error::{At, InitError, Step};
use crate::json::JStr;

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
            .ok_or_else(|| InitError::invalid(step, at, "longer than PATH_MAX"))?;
        if p.bytes().contains(&0) {
            return Err(InitError::invalid(step, at, "contains a NUL byte"));
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
        let _ = write!(p, "/proc/self/fd/{}", fd.as_raw_fd());
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

impl fmt::Write for CPath {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end >= PATH_MAX || s.as_bytes().contains(&0) {
            return Err(fmt::Error);
        }
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
