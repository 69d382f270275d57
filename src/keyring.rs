//! A fresh, named session keyring (runc `standard_init_linux.go`: `_ses.<id>`), so the
//! container never shares the runtime's keys, and `exec` can join the same one by name.
//!
//! The parent names it in `_OCINIT_KEYRING` (`ocirun` passes `_ses.<id>`; with
//! `--no-new-keyring` it passes nothing and the init keeps the keyring it inherited). ENOSYS (a
//! kernel without keys) is a warning; every other failure is an error.

use core::ffi::CStr;

use rustix::io::Errno;

use crate::error::{At, Context, InitError, Op, Reason, Step};
use crate::protocol::Log;
use crate::sys;
use crate::text::Part;

const STEP: Step = Step::Keyring;
/// `KEY_USR_SEARCH`: the key's owner may search it (runc adds it).
const USER_SEARCH: u32 = 0x0008_0000;
/// `KEY_OTH_SEARCH`: what runc adds instead in a user namespace.
const OTHER_SEARCH: u32 = 0x0000_0008;

/// The permission field of `type;uid;gid;perm;description`.
fn permissions(description: &[u8]) -> Option<u32> {
    let field = description.split(|&c| c == b';').nth(3)?;
    u32::from_str_radix(core::str::from_utf8(field).ok()?, 16).ok()
}

/// Join the keyring `name` and let its owner search it.
/// `exec` joins the container's ring by name and leaves its permissions as they are (runc).
pub fn join(
    name: Option<&CStr>,
    user_namespace: bool,
    set_permissions: bool,
    log: &Log<'_>,
) -> Result<(), InitError> {
    let Some(name) = name else { return Ok(()) };
    let serial = match sys::join_session_keyring(name) {
        Ok(s) => s,
        Err(Errno::NOSYS) => {
            log.line(
                "warn",
                &[Part::S(
                    "this kernel has no keyrings: the container shares the runtime's session keyring",
                )],
            );
            return Ok(());
        }
        Err(e) => return Err(InitError::sys(STEP, Op::Keyctl, e, At::NONE)),
    };
    if !set_permissions {
        return Ok(());
    }
    let mut description = [0u8; 512];
    let n = sys::describe_key(serial, &mut description).ctx(STEP, Op::Keyctl, At::NONE)?;
    let perm = description
        .get(..n.min(description.len()))
        .and_then(permissions)
        .ok_or_else(|| {
            InitError::invalid(STEP, At::NONE, Reason::UnreadableKeyringDescription)
                .with_op(Op::Keyctl)
        })?;
    let search = if user_namespace {
        OTHER_SEARCH
    } else {
        USER_SEARCH
    };
    sys::set_key_permissions(serial, perm | search).ctx(STEP, Op::Keyctl, At::NONE)
}

#[cfg(test)]
mod tests {
    #[test]
    fn permissions_field() {
        assert_eq!(
            super::permissions(b"keyring;0;0;3f010000;_ses.x\0"),
            Some(0x3f01_0000)
        );
        assert_eq!(super::permissions(b"keyring;0;0"), None);
    }
}
