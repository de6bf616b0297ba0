//! The files a user names with `--out`: checked, created privately and exclusively, renamed
//! into place.
//!
//! cis-fix writes only regular files it creates itself. Each is a new file under a fresh name
//! in the target's directory (`O_EXCL`; mode 0600 when it holds endpoints), renamed over the
//! target once written. So what is at the target is never opened, truncated or re-moded: a
//! device, a FIFO or a symbolic link there (`/dev/null`, `/dev/stdout`) is refused instead,
//! with a pointer to `--out -`, before any AWS call and again right before the rename.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Who may read a file cis-fix writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Its owner only (mode 0600): it holds subscription endpoints in clear.
    Private,
    /// Whoever the umask lets (mode 0666 less the umask), as for any new file.
    Shared,
}

/// Fails before any AWS call when `--out FILE` could not be written: a directory, something
/// that is not a regular file (a device, a FIFO, a symbolic link), or a directory that does
/// not take new files. The probe is a temporary file of its own, removed again; nothing the
/// user has is touched.
pub fn check_writable(path: &Path) -> Result<()> {
    refuse_target(path)
        .and_then(|()| create_temp(path, Access::Private))
        .and_then(|probe| probe.close())
        .map_err(|source| write_error(path, source))
}

/// `export --out DIR/`: DIR must be a directory (not a symbolic link to one), or not exist
/// yet; an existing one must take new files.
pub fn check_dir(dir: &Path) -> Result<()> {
    let fail = |source| write_error(dir, source);
    let metadata = match std::fs::symlink_metadata(as_typed(dir)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other.map_err(fail)?,
    };
    if !metadata.is_dir() {
        return Err(fail(refused(&metadata.file_type(), DIR_NEEDED)));
    }
    create_temp(&dir.join("probe"), Access::Private)
        .and_then(|probe| probe.close())
        .map_err(fail)
}

/// Creates `dir` (and its parents) for `export --out DIR/`, after [`check_dir`].
pub fn create_dir(dir: &Path) -> Result<()> {
    check_dir(dir)?;
    std::fs::create_dir_all(dir).map_err(|source| write_error(dir, source))
}

/// Writes `bytes` to `path` through a new file of its own in the same directory and a rename,
/// so that a crash never leaves a truncated file behind and nothing at `path` is opened.
pub fn write_atomic(path: &Path, bytes: &[u8], access: Access) -> Result<()> {
    let fail = |source| write_error(path, source);
    // Dropped on failure, the temporary file goes away with it.
    let mut tmp = create_temp(path, access).map_err(fail)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(fail)?;
    // Again right before the rename: the target may have changed since the first check.
    refuse_target(path).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

fn write_error(path: &Path, source: io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Refuses a target that cis-fix must not replace: a directory (or a path that names none,
/// like `dir/`), and anything that exists and is not a regular file. A symbolic link is
/// refused whatever it points to: the link is checked, not followed.
fn refuse_target(path: &Path) -> io::Result<()> {
    // `Path` ignores a trailing `/`: look at what was typed.
    let typed_dir = path
        .as_os_str()
        .to_string_lossy()
        .ends_with(std::path::is_separator);
    if typed_dir || path.file_name().is_none() {
        return Err(is_a_directory());
    }
    let metadata = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    match metadata.file_type() {
        t if t.is_file() => Ok(()),
        t if t.is_dir() => Err(is_a_directory()),
        t => Err(refused(&t, FILE_NEEDED)),
    }
}

fn is_a_directory() -> io::Error {
    io::Error::new(
        io::ErrorKind::IsADirectory,
        "it is a directory; pass a file name, e.g. plan.json",
    )
}

const FILE_NEEDED: &str = "cis-fix writes only regular files it creates, never through a link or onto a device: name a new or regular file";
const DIR_NEEDED: &str =
    "--out DIR/ needs a directory, not a link to one: name the directory itself";

/// The one-line reason a target is refused: what it is, what is needed instead, and
/// `--out -`.
fn refused(file_type: &std::fs::FileType, needed: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "it is {}; {needed}, or pass --out - for stdout",
            describe(file_type)
        ),
    )
}

/// "a symbolic link", "a character device", …: what a path is, for messages.
fn describe(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// `dir` without a trailing `/`, so that a symbolic link to a directory is seen as the link.
fn as_typed(dir: &Path) -> PathBuf {
    dir.components().collect()
}

/// A new, empty file next to `path`, under a fresh random name (`.plan.json.cis-fix-XXXXXX.tmp`),
/// created exclusively: `tempfile` never reuses an existing name, so a user's own `plan.tmp`
/// (or anything else) is never truncated or deleted.
fn create_temp(path: &Path, access: Access) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.cis-fix-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match access {
            Access::Private => 0o600,
            Access::Shared => 0o666,
        };
        // Set at creation (the umask applies), never on a file that exists.
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = access;
    builder.tempfile_in(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_new_files_of_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        // Another name for the old file: it must keep its mode and content.
        let other = dir.path().join("other-name");
        std::fs::hard_link(&path, &other).unwrap();
        write_atomic(&path, b"{}", Access::Private).unwrap();
        assert_eq!(mode(&path) & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        assert_eq!(mode(&other) & 0o777, 0o644);
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "old");
        assert!(check_writable(&dir.path().join("missing-dir/plan.json")).is_err());
    }

    #[test]
    fn writing_a_plan_never_touches_the_users_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        // Files a naive `plan.tmp` probe or temporary file would delete or overwrite.
        for name in ["plan.tmp", "plan.json.tmp", ".plan.json.tmp"] {
            std::fs::write(dir.path().join(name), "mine").unwrap();
        }
        check_writable(&path).unwrap();
        write_atomic(&path, b"{}", Access::Private).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [".plan.json.tmp", "plan.json", "plan.json.tmp", "plan.tmp"]
        );
        for name in ["plan.tmp", "plan.json.tmp", ".plan.json.tmp"] {
            assert_eq!(
                std::fs::read_to_string(dir.path().join(name)).unwrap(),
                "mine"
            );
        }
    }

    #[test]
    fn a_directory_is_no_place_for_a_plan() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_writable(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        let slash = format!("{}/new/", dir.path().display());
        assert!(check_writable(Path::new(&slash)).is_err());
        assert!(write_atomic(dir.path(), b"{}", Access::Private).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// A character device like /dev/null (1, 3) in `dir`, where a test may fail safely: a
    /// regression would replace this node, not the machine's /dev/null. `None` where
    /// `mknod` is not allowed (not root).
    #[cfg(unix)]
    fn null_device_in(dir: &Path) -> Option<PathBuf> {
        let path = dir.join("null");
        let made = std::process::Command::new("mknod")
            .arg(&path)
            .args(["c", "1", "3"])
            .stderr(std::process::Stdio::null())
            .status();
        made.is_ok_and(|s| s.success()).then_some(path)
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_and_left_as_it_was() {
        use std::os::unix::fs::FileTypeExt;
        // Only the check on the real /dev/null: it looks at the path and never opens it.
        let err = check_writable(Path::new("/dev/null"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/dev/null: it is a character device") && err.contains("--out -"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let Some(device) = null_device_in(dir.path()) else {
            return;
        };
        let before = mode(&device);
        for access in [Access::Private, Access::Shared] {
            let err = write_atomic(&device, b"{}", access)
                .unwrap_err()
                .to_string();
            assert!(err.contains("it is a character device"), "{err}");
        }
        assert_eq!(mode(&device), before);
        let file_type = std::fs::symlink_metadata(&device).unwrap().file_type();
        assert!(file_type.is_char_device());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let before = mode(&fifo);
        for err in [
            check_writable(&fifo).unwrap_err(),
            write_atomic(&fifo, b"{}", Access::Shared).unwrap_err(),
        ] {
            assert!(err.to_string().contains("it is a FIFO"), "{err}");
        }
        assert_eq!(mode(&fifo), before);
        // Nothing else was left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_refused_whatever_it_points_to() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        std::fs::write(&target, "theirs").unwrap();
        let before = mode(&target);
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
        for path in [&link, &dangling] {
            for err in [
                check_writable(path).unwrap_err(),
                write_atomic(path, b"{}", Access::Private).unwrap_err(),
            ] {
                assert!(err.to_string().contains("it is a symbolic link"), "{err}");
            }
        }
        assert_eq!(std::fs::read_link(&link).unwrap(), target);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs");
        assert_eq!(mode(&target), before);
        assert!(!dir.path().join("nothing").exists());
    }

    #[cfg(unix)]
    #[test]
    fn export_directories_must_be_real_ones() {
        let dir = tempfile::tempdir().unwrap();
        check_dir(dir.path()).unwrap();
        check_dir(&dir.path().join("new/")).unwrap();
        create_dir(&dir.path().join("made/")).unwrap();
        assert!(dir.path().join("made").is_dir());
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let with_slash = PathBuf::from(format!("{}/", link.display()));
        for path in [&link, &with_slash] {
            for err in [check_dir(path).unwrap_err(), create_dir(path).unwrap_err()] {
                assert!(err.to_string().contains("it is a symbolic link"), "{err}");
            }
        }
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = check_dir(&file).unwrap_err().to_string();
        assert!(err.contains("it is a regular file"), "{err}");
        assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
    }

    #[test]
    fn shared_files_are_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cis-fix.tf");
        write_atomic(&path, b"# tf", Access::Shared).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# tf");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
