//! `process.capabilities` and `process.noNewPrivileges`, in runc's order (`init_linux.go`
//! `finalizeNamespace`): the bounding set is cut while CAP_SETPCAP is still ours, capabilities
//! are kept across the user switch, then the five sets are set exactly.
//!
//! `capabilities` absent means untouched (runc): the process keeps what the init has.

use rustix::io::Errno;
use rustix::thread::{CapabilitySet, CapabilitySets};

use crate::config::{Process, member};
use crate::error::{At, Context, Field, InitError, Op, Step};
use crate::json::{JStr, Value};
use crate::names::Names;
use crate::protocol::{Line, Log};
use crate::text::Part;

const STEP: Step = Step::Capabilities;

/// Capability names, index = number (`include/uapi/linux/capability.h`, CAP_LAST_CAP = 40).
pub const NAMES: Names = crate::names![
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The number of a capability name.
pub fn number(name: JStr<'_>) -> Option<usize> {
    NAMES.iter().position(|n| name.eq_str(n))
}

/// The five sets, as bit masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sets {
    /// `bounding`
    pub bounding: u64,
    /// `effective`
    pub effective: u64,
    /// `inheritable`
    pub inheritable: u64,
    /// `permitted`
    pub permitted: u64,
    /// `ambient`
    pub ambient: u64,
}

const SET_NAMES: Names = crate::names![
    "bounding",
    "effective",
    "inheritable",
    "permitted",
    "ambient",
];

/// The sets of `process.capabilities`; unknown names are logged and left out, as runc does
/// (a newer config on an older kernel table).
pub fn sets(caps: Value<'_>, log: &Log<'_>) -> Sets {
    let mut masks = [0u64; 5];
    for (mask, set) in masks.iter_mut().zip(SET_NAMES) {
        for (i, name) in member(caps, set)
            .iter()
            .flat_map(|v| v.elements())
            .enumerate()
        {
            match name.as_str().and_then(number) {
                Some(n) => *mask |= 1 << n,
                None => log.line(
                    "warn",
                    &[
                        Part::S("process.capabilities."),
                        Part::S(set),
                        Part::S("["),
                        Part::U(i as u64),
                        Part::S("]: unknown capability, ignored"),
                    ],
                ),
            }
        }
    }
    let [bounding, effective, inheritable, permitted, ambient] = masks;
    Sets {
        bounding,
        effective,
        inheritable,
        permitted,
        ambient,
    }
}

/// Before the user switch: cut the bounding set (needs CAP_SETPCAP, lost by the switch), and
/// keep the permitted set across `setuid`.
pub fn before_user_switch(p: &Process<'_>, log: &Log<'_>) -> Result<Option<Sets>, InitError> {
    let Some(caps) = p.capabilities else {
        return Ok(None);
    };
    let sets = sets(caps, log);
    let at = At::field(Field::ProcessCapabilitiesBounding);
    for cap in 0..const { NAMES.count() } {
        if sets.bounding & (1 << cap) != 0 {
            continue;
        }
        let one = CapabilitySet::from_bits_retain(1 << cap);
        match rustix::thread::remove_capability_from_bounding_set(one) {
            // EINVAL: a capability this kernel does not have; nothing to drop.
            Ok(()) | Err(Errno::INVAL) => {}
            Err(e) => return Err(InitError::sys(STEP, Op::Prctl, e, at)),
        }
    }
    if p.user.uid != 0 {
        // Only a switch away from uid 0 empties the permitted set; execve clears the flag.
        rustix::thread::set_keep_capabilities(true).ctx(
            STEP,
            Op::Prctl,
            At::field(Field::ProcessCapabilities),
        )?;
    }
    Ok(Some(sets))
}

/// After the user switch: exactly the configured effective, permitted and inheritable sets
/// (nothing implicit: CVE-2022-29162), then the ambient set, each raise only if the capability
/// is also inheritable and permitted (otherwise the kernel refuses; runc warns).
pub fn after_user_switch(sets: Option<Sets>, log: &Log<'_>) -> Result<(), InitError> {
    let Some(s) = sets else { return Ok(()) };
    let at = At::field(Field::ProcessCapabilities);
    let caps = CapabilitySets {
        effective: CapabilitySet::from_bits_retain(s.effective),
        permitted: CapabilitySet::from_bits_retain(s.permitted),
        inheritable: CapabilitySet::from_bits_retain(s.inheritable),
    };
    rustix::thread::set_capabilities(None, caps).ctx(STEP, Op::Capset, at)?;
    let raisable = s.inheritable & s.permitted;
    if raisable != 0 {
        // capset itself cut the ambient set to inheritable ∩ permitted: only then can an
        // inherited ambient capability survive it.
        rustix::thread::clear_ambient_capability_set().ctx(
            STEP,
            Op::Prctl,
            At::field(Field::ProcessCapabilitiesAmbient),
        )?;
    }
    // One warning line for every capability that cannot be raised (runc warns per capability).
    let mut refused = Line::<1024>::new();
    for (cap, name) in NAMES.iter().enumerate() {
        if s.ambient & (1 << cap) == 0 {
            continue;
        }
        let raised = raisable & (1 << cap) != 0
            && rustix::thread::configure_capability_in_ambient_set(
                CapabilitySet::from_bits_retain(1 << cap),
                true,
            )
            .is_ok();
        if !raised {
            let _ = refused.push(&[Part::S(" "), Part::S(name)]);
        }
    }
    let names = core::str::from_utf8(refused.as_bytes()).unwrap_or_default();
    if !names.is_empty() {
        log.line(
            "warn",
            &[
                Part::S(
                    "can't raise ambient capabilities (they must be inheritable and permitted):",
                ),
                Part::S(names),
            ],
        );
    }
    Ok(())
}

/// `process.noNewPrivileges`: before the parent's `run`, so nothing after it can gain privileges.
pub fn no_new_privileges(p: &Process<'_>) -> Result<(), InitError> {
    if !p.no_new_privileges {
        return Ok(());
    }
    rustix::thread::set_no_new_privs(true).ctx(
        Step::Prctl,
        Op::Prctl,
        At::field(Field::ProcessNoNewPrivileges),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_kernel_numbers() {
        use linux_raw_sys::general as g;
        let name = |n: u32| NAMES.iter().nth(n as usize);
        assert_eq!(NAMES.count() as u32, g::CAP_LAST_CAP + 1);
        assert_eq!(name(g::CAP_SYS_ADMIN), Some("CAP_SYS_ADMIN"));
        assert_eq!(name(g::CAP_NET_BIND_SERVICE), Some("CAP_NET_BIND_SERVICE"));
        assert_eq!(
            name(g::CAP_CHECKPOINT_RESTORE),
            Some("CAP_CHECKPOINT_RESTORE")
        );
        assert_eq!(name(g::CAP_AUDIT_READ), Some("CAP_AUDIT_READ"));
    }
}
