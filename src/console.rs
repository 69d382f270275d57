//! `process.terminal`: a pty from the container's own devpts, its master to the parent, its
//! peer as the process's stdio and controlling terminal (runc's `setupConsole`).

use linux_raw_sys::general as g;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{MoveMountFlags, OpenTreeFlags};
use rustix::pty::OpenptFlags;

use crate::config::Config;
use crate::error::{At, Context, Field, InitError, Op, Reason, Step};

const STEP: Step = Step::Console;
const AT: At = At::field(Field::ProcessTerminal);

/// Allocate the pty, hand its master to the parent (`console` message), and make the peer the
/// controlling terminal on fds 0–2. `bind_console`: mount the peer on `/dev/console` (a new
/// container; `exec` joins one that has it).
#[inline(never)]
pub fn setup(
    config: &Config<'_>,
    control: BorrowedFd<'_>,
    bind_console: bool,
) -> Result<(), InitError> {
    if !config.process.terminal {
        return Ok(());
    }
    // The container's ptmx (its /dev/ptmx → pts/ptmx), never a host one: the pty then belongs
    // to the container's devpts instance.
    let master = rustix::fs::open(
        c"/dev/ptmx",
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx(STEP, Op::Open, AT)
    .map_err(|e| e.because(Reason::DevPtmxMountADevptsOn))?;
    let st = rustix::fs::fstat(&master).ctx(STEP, Op::Open, AT)?;
    let fs = rustix::fs::fstatfs(&master).ctx(STEP, Op::Statfs, AT)?;
    if fs.f_type != i64::from(g::DEVPTS_SUPER_MAGIC)
        || FileType::from_raw_mode(st.st_mode) != FileType::CharacterDevice
    {
        return Err(InitError::invalid(STEP, AT, Reason::DevPtmxIsNotADevpts));
    }
    rustix::pty::unlockpt(&master).ctx(STEP, Op::Ioctl, AT)?;
    // TIOCGPTPEER: the peer of this very master, with no path lookup under /dev/pts.
    let peer = rustix::pty::ioctl_tiocgptpeer(
        &master,
        OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
    )
    .ctx(STEP, Op::Ioctl, AT)?;
    if let Some((rows, cols)) = config.process.console_size {
        let size = rustix::termios::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&master, size).ctx(
            STEP,
            Op::Ioctl,
            At::field(Field::ProcessConsoleSize),
        )?;
    }
    if bind_console {
        bind_dev_console(&peer)?;
    }
    crate::protocol::send_console(control, master.as_fd(), STEP)?;
    drop(master);
    // A session of our own whose controlling terminal is the peer; fds 0–2 become it.
    rustix::process::setsid().ctx(STEP, Op::Setsid, AT)?;
    rustix::stdio::dup2_stdin(&peer).ctx(STEP, Op::Dup, AT)?;
    rustix::stdio::dup2_stdout(&peer).ctx(STEP, Op::Dup, AT)?;
    rustix::stdio::dup2_stderr(&peer).ctx(STEP, Op::Dup, AT)?;
    rustix::process::ioctl_tiocsctty(&peer).ctx(STEP, Op::Ioctl, AT)
}

/// Mount the peer on `/dev/console`. The target is opened without following any symlink and
/// must be a regular file or a device (created empty if missing): an image's `/dev/console`
/// pointing elsewhere (`/proc/sys/kernel/core_pattern`) is refused, never mounted over
/// (CVE-2025-52565). The mount goes fd to fd (`open_tree` + `move_mount`), with no path the
/// container could swap in between.
fn bind_dev_console(peer: &OwnedFd) -> Result<(), InitError> {
    let fail = |op, e| InitError::sys(STEP, op, e, AT).because(Reason::DevConsole);
    let how = ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH;
    // openat2 takes a mode only with O_CREAT.
    let open =
        |flags, mode| crate::resolve::open(rustix::fs::CWD, b"dev/console", flags, mode, how);
    let target = match open(
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Err(Errno::NOENT) => open(
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::RUSR | Mode::WUSR,
        ),
        r => r,
    }
    .map_err(|e| fail(Op::Open, e))?;
    let kind = FileType::from_raw_mode(
        rustix::fs::fstat(&target)
            .map_err(|e| fail(Op::Open, e))?
            .st_mode,
    );
    if !matches!(kind, FileType::RegularFile | FileType::CharacterDevice) {
        return Err(InitError::invalid(STEP, AT, Reason::DevConsoleIsNotAFile));
    }
    let tree = rustix::mount::open_tree(
        peer,
        c"",
        OpenTreeFlags::OPEN_TREE_CLONE
            | OpenTreeFlags::OPEN_TREE_CLOEXEC
            | OpenTreeFlags::AT_EMPTY_PATH,
    )
    .map_err(|e| fail(Op::Mount, e))?;
    rustix::mount::move_mount(
        &tree,
        c"",
        &target,
        c"",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .map_err(|e| fail(Op::Mount, e))
}
