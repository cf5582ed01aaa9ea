//! Files the host keeps private: the database and its directory, the token key, the compile cache. Created owner-only
//! (0600 files, 0700 directories), whatever the umask: they hold tokens, or native code the host will run.

use anyhow::{Context, Result};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and its parents) owner-only when missing.
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Writes `bytes` to `path` as a 0600 file; `exclusive` refuses to replace an existing one.
pub fn write_private(path: &Path, bytes: &[u8], exclusive: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if exclusive {
        options.create_new(true)
    } else {
        options.create(true).truncate(true)
    };
    let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).with_context(|| format!("writing {}", path.display()))
}

/// Makes the SQLite database at `path` and its companions (`-wal`, `-shm`) owner-only, creating the database
/// file 0600 first when it is new so it never exists readable by others.
pub fn private_database(path: &Path) -> Result<()> {
    if !path.exists() {
        let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = Path::new(&format!("{}{suffix}", path.display())).to_path_buf();
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private", file.display()))?;
        }
    }
    Ok(())
}
