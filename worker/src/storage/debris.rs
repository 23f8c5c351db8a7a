//! The debris sweep (issue 17): what a gateway killed mid-way left in the
//! local data root. Only Riffle's own staging names are touched, and only
//! when nothing in them changed for the grace period and no request of this
//! gateway is using them:
//!
//! - staged uploads, files named `.NAME.riffle-upload-<id>`;
//! - write-session staging, directories `_temporary/<id>`, and the
//!   `_temporary` holding them when that leaves it empty.
//!
//! `<id>` is 32 lowercase hex digits, as [`super::new_id`] makes them. A
//! symbolic link is never followed, and never removed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// What a sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Swept {
    pub uploads: usize,
    pub staging_dirs: usize,
    /// Staging of a commit that was cut off, kept for its replaced files.
    pub kept_replaced: usize,
}

/// The ids of the uploads this gateway is staging now: never debris.
#[derive(Debug, Default)]
pub(crate) struct Uploads(Mutex<HashSet<String>>);

impl Uploads {
    /// Marks `id` as being staged until the guard drops.
    pub(crate) fn begin(self: &Arc<Self>, id: &str) -> Uploading {
        if let Ok(mut ids) = self.0.lock() {
            ids.insert(id.to_string());
        }
        Uploading { uploads: self.clone(), id: id.to_string() }
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.0.lock().map(|ids| ids.contains(id)).unwrap_or(true)
    }
}

/// An upload being staged; see [`Uploads::begin`].
pub(crate) struct Uploading {
    uploads: Arc<Uploads>,
    id: String,
}

impl Drop for Uploading {
    fn drop(&mut self) {
        if let Ok(mut ids) = self.uploads.0.lock() {
            ids.remove(&self.id);
        }
    }
}

/// A write session's or staged upload's id, as [`super::new_id`] makes them.
fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The id of a staged upload's name, `.NAME.riffle-upload-<id>`.
pub(crate) fn staged_upload_id(name: &str) -> Option<&str> {
    let (head, id) = name.rsplit_once(".riffle-upload-")?;
    (head.len() > 1 && head.starts_with('.') && is_id(id)).then_some(id)
}

/// When `path` (not followed) or, for a directory, anything directly in it
/// last changed; `None` when it cannot be read.
fn last_change(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mut newest = meta.modified().ok()?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).ok()?.flatten() {
            if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(t);
            }
        }
    }
    Some(newest)
}

fn stale(path: &Path, grace: Duration, now: SystemTime) -> bool {
    last_change(path).is_some_and(|t| now.duration_since(t).is_ok_and(|age| age >= grace))
}

/// Sweeps the tree under `root`; `in_use` says which ids this gateway is
/// using (open write sessions, uploads being staged).
/// Where a commit that overwrites moves the old output's files while the new
/// ones move in (`writes.rs`).
pub(crate) const REPLACED: &str = ".replaced";

pub(crate) fn sweep(root: &Path, grace: Duration, in_use: &dyn Fn(&str) -> bool) -> Swept {
    let now = SystemTime::now();
    let mut swept = Swept::default();
    // Directories to read, and whether each is a `_temporary`.
    let mut stack: Vec<(PathBuf, bool)> = vec![(root.to_path_buf(), false)];
    while let Some((dir, is_temporary)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut removed_here = false;
        for entry in entries.flatten() {
            // The entry itself: a symbolic link is a link, never what it points at.
            let Ok(kind) = entry.file_type() else { continue };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            if kind.is_file() {
                if let Some(id) = staged_upload_id(name)
                    && !in_use(id)
                    && stale(&path, grace, now)
                    && std::fs::remove_file(&path).is_ok()
                {
                    swept.uploads += 1;
                }
            } else if kind.is_dir() {
                if is_temporary && is_id(name) {
                    // A commit cut off midway moved the old output's files here
                    // (`.replaced`): they may be its only copy, so a person decides.
                    if path.join(REPLACED).exists() {
                        if !in_use(name) {
                            swept.kept_replaced += 1;
                            tracing::warn!(staging = %path.display(), "an overwrite was cut off during its commit; \
                                the replaced files are kept in .replaced/ (move them back, or delete the directory)");
                        }
                    } else if !in_use(name) && stale(&path, grace, now) && std::fs::remove_dir_all(&path).is_ok() {
                        swept.staging_dirs += 1;
                        removed_here = true;
                    }
                } else {
                    stack.push((path, name == "_temporary"));
                }
            }
        }
        // Only a `_temporary` this sweep emptied goes; one that was empty
        // already may be someone else's (Spark's own job) and stays.
        if removed_here {
            let _ = std::fs::remove_dir(&dir);
        }
    }
    swept
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";
    const LIVE: &str = "fedcba9876543210fedcba9876543210";

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let nanos = SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
            let dir = std::env::temp_dir().join(format!("riffle-debris-{name}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            Dir(dir)
        }

        fn file(&self, rel: &str, text: &str) -> PathBuf {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("its parent");
            std::fs::write(&path, text).expect("a file");
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn only_riffles_names() {
        assert_eq!(staged_upload_id(&format!(".trips.csv.riffle-upload-{ID}")), Some(ID));
        assert_eq!(staged_upload_id(&format!("trips.csv.riffle-upload-{ID}")), None);
        assert_eq!(staged_upload_id(".trips.csv.riffle-upload-xyz"), None);
        assert_eq!(staged_upload_id(&format!(".riffle-upload-{ID}")), None);
        assert_eq!(staged_upload_id(&format!(".a.riffle-upload-{ID}x")), None);
        assert_eq!(staged_upload_id(&format!(".a.riffle-upload-{}", ID.to_uppercase())), None);
        assert!(is_id(&super::super::new_id()));
        assert!(!is_id("0123"));
    }

    #[test]
    fn sweeps_only_stale_unused_staging() {
        let d = Dir::new("sweep");
        let upload = d.file(&format!("in/.trips.csv.riffle-upload-{ID}"), "partial");
        let live_upload = d.file(&format!("in/.other.csv.riffle-upload-{LIVE}"), "live");
        let staging = d.file(&format!("out/t/_temporary/{ID}/part-00000.csv"), "1\n");
        let live_staging = d.file(&format!("out/u/_temporary/{LIVE}/part-00000.csv"), "1\n");
        // Look-alikes, and what readers see: all stay.
        let keep = [
            d.file("in/trips.csv", "data"),
            d.file(&format!("in/trips.csv.riffle-upload-{ID}"), "not hidden"),
            d.file(&format!("in/.x.riffle-upload-{}", &ID[..31]), "short id"),
            d.file(&format!("in/.x.riffle-upload-{ID}.bak"), "suffix"),
            d.file(&format!("out/t/_temporary/{ID}x/part"), "not an id"),
            d.file("out/t/_temporary/0/task/part", "Spark's own"),
            d.file(&format!("out/t/other/{ID}/part"), "not in _temporary"),
            d.file("out/t/part-00000.csv", "committed"),
        ];
        std::fs::create_dir_all(d.0.join("empty/_temporary")).unwrap();

        // Within the grace nothing goes.
        let none = sweep(&d.0, Duration::from_secs(3600), &|_| false);
        assert_eq!(none, Swept::default());
        assert!(upload.exists() && staging.exists());

        let swept = sweep(&d.0, Duration::ZERO, &|id| id == LIVE);
        assert_eq!(swept, Swept { uploads: 1, staging_dirs: 1, kept_replaced: 0 });
        assert!(!upload.exists());
        assert!(!staging.parent().unwrap().exists());
        assert!(live_upload.exists() && live_staging.exists(), "in use: kept");
        for path in keep {
            assert!(path.exists(), "{} was kept", path.display());
        }
        assert!(d.0.join("out/t/_temporary").is_dir(), "still holds Spark's 0/");
        assert!(d.0.join("empty/_temporary").is_dir(), "an empty _temporary it did not empty stays");
    }

    #[test]
    fn the_old_files_of_a_cut_off_commit_are_kept() {
        let d = Dir::new("replaced");
        let old = d.file(&format!("out/t/_temporary/{ID}/{REPLACED}/part-00000.csv"), "old\n");
        let swept = sweep(&d.0, Duration::ZERO, &|_| false);
        assert_eq!(swept, Swept { uploads: 0, staging_dirs: 0, kept_replaced: 1 });
        assert!(old.exists(), "the only copy of the old output stays");
    }

    #[cfg(unix)]
    #[test]
    fn never_follows_or_removes_a_symlink() {
        let d = Dir::new("links");
        let outside = Dir::new("outside");
        let precious = outside.file(&format!("_temporary/{ID}/precious"), "keep");
        let target = outside.file(&format!(".secret.riffle-upload-{ID}"), "keep");
        let root = d.0.join("root");
        std::fs::create_dir_all(root.join("out")).unwrap();
        // A directory link into a tree holding debris names, a link named
        // like a staged upload, and a `_temporary/<id>` that is a link.
        std::os::unix::fs::symlink(&outside.0, root.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(&target, root.join(format!(".a.csv.riffle-upload-{ID}"))).unwrap();
        std::fs::create_dir_all(root.join("out/_temporary")).unwrap();
        std::os::unix::fs::symlink(outside.0.join("_temporary").join(ID), root.join("out/_temporary").join(ID))
            .unwrap();

        let swept = sweep(&root, Duration::ZERO, &|_| false);
        assert_eq!(swept, Swept::default());
        assert!(precious.exists() && target.exists(), "nothing behind a link was touched");
        for link in [
            root.join("elsewhere"),
            root.join(format!(".a.csv.riffle-upload-{ID}")),
            root.join("out/_temporary").join(ID),
        ] {
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "{} stays", link.display());
        }
    }
}
