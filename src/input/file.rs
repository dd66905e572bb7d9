//! Reading a file the user gives: a regular file under a size limit, read
//! as UTF-8 with a leading byte-order mark dropped. A FIFO, a device such as
//! `/dev/zero` or a directory is refused before a byte is read, so no read
//! blocks forever or grows until the machine runs out of memory.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What a file is and how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// "a settings file", "a formation": for messages.
    pub what: &'static str,
    pub bytes: u64,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// `group_vars/*.yml`.
pub const SETTINGS: Limit = Limit {
    what: "a settings file",
    bytes: MIB,
};
/// A formation: CloudFormation takes templates up to 1 MB from S3.
pub const FORMATION: Limit = Limit {
    what: "a formation",
    bytes: MIB,
};
/// A scenario file, a `molecule.yml`.
pub const SCENARIO: Limit = Limit {
    what: "a scenario file",
    bytes: MIB,
};
/// `--set-file KEY=PATH`: one value, such as a password or a key.
pub const SET_FILE: Limit = Limit {
    what: "a --set-file value",
    bytes: 64 * KIB,
};
/// Other YAML an argos-cloud command reads: a role's `meta/main.yml`, a
/// `requirements.yml`, the task files the image bake follows.
pub const ANSIBLE_FILE: Limit = Limit {
    what: "an Ansible file",
    bytes: 4 * MIB,
};
/// A file of a role the image bake hashes (templates and files included).
pub const ROLE_FILE: Limit = Limit {
    what: "a role's file",
    bytes: 64 * MIB,
};

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} may be at most {}", self.what, size(self.bytes))
    }
}

fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: is {kind}, not a regular file: {} is read from a regular file only", path.display(), limit.what)]
    NotRegular {
        path: PathBuf,
        kind: &'static str,
        limit: Limit,
    },
    #[error("{}: larger than {}: {limit}", path.display(), size(limit.bytes))]
    TooLarge { path: PathBuf, limit: Limit },
    #[error("{}:{line}: not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf, line: usize },
}

impl ReadError {
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::NotRegular { path, .. }
            | ReadError::TooLarge { path, .. }
            | ReadError::NotUtf8 { path, .. } => path,
        }
    }
}

/// The bytes of `path`, a regular file of at most `limit` bytes.
pub fn read_bytes(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let (file, _) = open_regular(path, limit)?;
    let mut bytes = Vec::new();
    // One byte past the limit tells "too large" from "exactly the limit"
    // for a file that grows while it is read.
    Read::take(&file, limit.bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit.bytes {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// The text of `path`: a regular UTF-8 file of at most `limit` bytes,
/// without a leading byte-order mark (editors on Windows write one).
pub fn read_text(path: &Path, limit: Limit) -> Result<String, ReadError> {
    let bytes = read_bytes(path, limit)?;
    let bytes = bytes
        .strip_prefix("\u{feff}".as_bytes())
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        ReadError::NotUtf8 {
            path: path.to_owned(),
            line: valid.iter().filter(|b| **b == b'\n').count() + 1,
        }
    })
}

/// The entries of `dir` named `*.<extension>`, in name order; none when
/// `dir` cannot be read.
pub fn named_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    paths.sort();
    paths
}

/// Whether `path` is a regular file (following symlinks), without opening it.
pub fn is_regular(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

fn describe(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// A file opened for reading, checked to be regular and within `limit`,
/// with its size.
pub fn open_regular(path: &Path, limit: Limit) -> Result<(File, u64), ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer;
    // O_NOCTTY: a terminal device never becomes ours. Neither changes how
    // a regular file reads.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.file_type().is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind: describe(&metadata.file_type()),
            limit,
        });
    }
    if metadata.len() > limit.bytes {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok((file, metadata.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: Limit = Limit {
        what: "a test file",
        bytes: 8,
    };

    #[test]
    fn a_device_a_fifo_and_a_directory_are_refused_before_reading() {
        let error = read_text(Path::new("/dev/zero"), TINY).unwrap_err();
        assert!(
            error.to_string().contains("is a character device"),
            "{error}"
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // No writer: a blocking open would never return.
        let error = read_text(&fifo, TINY).unwrap_err();
        assert!(error.to_string().contains("is a FIFO"), "{error}");
        let error = read_text(dir.path(), TINY).unwrap_err();
        assert!(error.to_string().contains("is a directory"), "{error}");
    }

    #[test]
    fn a_file_over_its_limit_is_refused_and_one_at_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("at");
        std::fs::write(&at, "12345678").unwrap();
        assert_eq!(read_text(&at, TINY).unwrap(), "12345678");
        let over = dir.path().join("over");
        std::fs::write(&over, "123456789").unwrap();
        let error = read_text(&over, TINY).unwrap_err().to_string();
        assert!(
            error.ends_with("larger than 8 bytes: a test file may be at most 8 bytes"),
            "{error}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_dropped_and_bad_utf8_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let bom = dir.path().join("bom");
        std::fs::write(&bom, "\u{feff}a: 1\n").unwrap();
        assert_eq!(read_text(&bom, SETTINGS).unwrap(), "a: 1\n");
        let bad = dir.path().join("bad");
        std::fs::write(&bad, b"a: 1\nb: \xff\n").unwrap();
        let error = read_text(&bad, SETTINGS).unwrap_err().to_string();
        assert!(error.ends_with("bad:2: not UTF-8 text"), "{error}");
    }
}
