//! The data directory: where every persisted file lives, and how it is written.
//!
//! Files are written atomically (temporary file in the same directory, `fsync`, `rename`,
//! `fsync` of the directory) with mode 0600, so a crash mid-write leaves the old file or the new
//! one, never half of either. The temporary file has a random name and is created new, never
//! through a symbolic link: a name someone could guess and plant a link at would let them
//! choose where the CA key is written. A directory that is not the user's own, or that others
//! can write to, is refused before anything is read from it or written to it. Initialisation
//! takes an exclusive lock on `.lock` so two processes (say `serve` and `mint` started together
//! on a fresh directory) cannot each create a different CA or signing key.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind as IoKind, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The environment variable that names the data directory.
pub const DATA_DIR_ENV: &str = "STEPMINT_DATA_DIR";

/// A Stepmint data directory and the layout of the files in it.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// An exclusive lock on a data directory, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DataDir {
    /// The platform's data directory for Stepmint (`~/.local/share/stepmint` on Linux).
    pub fn platform_default() -> Result<PathBuf> {
        directories::ProjectDirs::from("dev", "stepmint", "stepmint")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| {
                Error::invalid(
                    "data-dir",
                    format!(
                        "no home directory to put data in; pass --data-dir or set {DATA_DIR_ENV}"
                    ),
                )
            })
    }

    /// Opens (creating if needed, mode 0700) the data directory at `root`. A directory another
    /// user owns, or that group or others can write to, is refused with the fix: whoever can
    /// write there can plant the files Stepmint reads keys from or writes keys through. So are
    /// the key folders in it (`ca`, `tls`, `attacker`, `workspaces`), in case they were planted
    /// while the directory was open to others.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        create_private_dir(&root)?;
        check_private_dir(&root)?;
        for sub in ["ca", "tls", "attacker", "workspaces"] {
            let dir = root.join(sub);
            if fs::symlink_metadata(&dir).is_ok() {
                check_private_dir(&dir)?;
            }
        }
        Ok(DataDir { root })
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the directory's exclusive lock, blocking until it is free.
    pub fn lock(&self) -> Result<DirLock> {
        let path = self.root.join(".lock");
        let file = open_lock_file(&path)?;
        file.lock().map_err(|e| Error::io("lock", &path, e))?;
        Ok(DirLock { _file: file })
    }

    /// Takes the serving lock without waiting: `Some` while no other server holds it (keep it
    /// for the server's life), `None` when another server does. A lock, not `server.json`: the
    /// operating system drops it when its holder dies, however it dies.
    pub fn try_lock_serving(&self) -> Result<Option<DirLock>> {
        let path = self.root.join(".serve.lock");
        let file = open_lock_file(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DirLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
        }
    }

    /// Removes temporary files that a writer killed mid-write left behind (`.NAME.PID.N.tmp`
    /// whose process is gone), in every folder Stepmint writes to; returns how many. Hold the
    /// directory lock. Another live process's temporary file is left alone.
    pub fn clean_stale_temp(&self) -> usize {
        let mut dirs = vec![
            self.root.clone(),
            self.root.join("ca"),
            self.root.join("tls"),
            self.root.join("attacker"),
        ];
        if let Ok(entries) = fs::read_dir(self.workspaces_dir()) {
            for e in entries.flatten() {
                dirs.push(e.path());
                dirs.push(e.path().join("keys"));
            }
        }
        let mut removed = 0;
        for dir in dirs {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if stale_temp(&name) && fs::remove_file(e.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        removed
    }

    /// The local CA certificate (PEM).
    pub fn ca_cert(&self) -> PathBuf {
        self.root.join("ca").join("ca.pem")
    }

    /// The local CA private key (PKCS#8 PEM).
    pub fn ca_key(&self) -> PathBuf {
        self.root.join("ca").join("ca-key.pem")
    }

    /// The system roots plus our CA, for clients that replace rather than extend their roots.
    pub fn ca_bundle(&self) -> PathBuf {
        self.root.join("ca").join("bundle.pem")
    }

    /// The TLS leaf certificate chain (PEM: leaf then CA).
    pub fn leaf_cert(&self) -> PathBuf {
        self.root.join("tls").join("leaf.pem")
    }

    /// The TLS leaf private key (PKCS#8 PEM).
    pub fn leaf_key(&self) -> PathBuf {
        self.root.join("tls").join("leaf-key.pem")
    }

    /// The directory holding all workspaces.
    pub fn workspaces_dir(&self) -> PathBuf {
        self.root.join("workspaces")
    }

    /// One workspace's directory. The slug must already be validated.
    pub fn workspace_dir(&self, slug: &str) -> PathBuf {
        self.workspaces_dir().join(slug)
    }

    /// Where a running `serve` records its address, for commands that talk to it.
    pub fn server_state(&self) -> PathBuf {
        self.root.join("server.json")
    }

    /// The last step `stepmint run` emulated for workspace `slug` (run numbers, UUIDs).
    pub fn step_state(&self, slug: &str) -> PathBuf {
        self.workspace_dir(slug).join("step.json")
    }

    /// Minted-token history (desktop app and console).
    pub fn history_file(&self) -> PathBuf {
        self.root.join("history.json")
    }

    /// One of the attacker's private keys (`rs256`, `es256`, `eddsa`).
    pub fn attacker_key(&self, name: &str) -> PathBuf {
        self.root.join("attacker").join(format!("{name}.pem"))
    }

    /// The control token of a server that needs one (beyond loopback), for the CLI to send.
    pub fn control_token(&self) -> PathBuf {
        self.root.join("control-token")
    }

    /// The desktop app's settings.
    pub fn desktop_settings(&self) -> PathBuf {
        self.root.join("desktop.json")
    }
}

/// A workspace directory's identity file (slug, UUID, default repository).
pub fn workspace_file(workspace_dir: &Path) -> PathBuf {
    workspace_dir.join("workspace.json")
}

/// A workspace directory's key ring (the keys' states).
pub fn keyring_file(workspace_dir: &Path) -> PathBuf {
    workspace_dir.join("keys.json")
}

/// A workspace directory's private key `kid` (PKCS#8 PEM).
pub fn key_file(workspace_dir: &Path, kid: &str) -> PathBuf {
    workspace_dir.join("keys").join(format!("{kid}.pem"))
}

/// What a running server records in `server.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    /// The public base URL.
    pub public_url: String,
    /// Where a client on this machine reaches the server: the address bound, or loopback
    /// when bound to all interfaces.
    pub listening: String,
    /// The serving process.
    pub pid: u32,
    /// The server's token lifetime in seconds, so offline mints match the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime: Option<u64>,
}

impl ServerRecord {
    /// The record of the server running on `data`, if there is one: see [`ServerRecord::read_noting`].
    pub fn read(data: &DataDir) -> Result<Option<ServerRecord>> {
        Ok(Self::read_noting(data)?.0)
    }

    /// The record of the server running on `data`, and a note when a dead server's record was
    /// ignored. A server killed without a clean stop (`kill -9`, a crash, a power cut) leaves
    /// its record behind, and a client that believed it would put a dead URL into `iss`. A
    /// record counts only while its process lives (on Linux: `/proc/PID`, not a zombie) and
    /// someone holds the serving lock, which the OS drops however its holder dies.
    pub fn read_noting(data: &DataDir) -> Result<(Option<ServerRecord>, Option<String>)> {
        let path = data.server_state();
        let Some(record) = read_json::<ServerRecord>(&path)? else {
            return Ok((None, None));
        };
        let process = process_alive(record.pid);
        // An error taking the lock (a read-only directory) proves nothing: trust the process.
        let lock_held = !matches!(data.try_lock_serving(), Ok(Some(_)));
        if process != Some(false) && lock_held {
            return Ok((Some(record), None));
        }
        let why = if process == Some(false) {
            format!("its process {} is gone", record.pid)
        } else {
            "nothing holds the data directory's serving lock".to_string()
        };
        let note = format!(
            "ignoring {}: the server it names ({}) is not running ({why}; stopped without a clean shutdown?)",
            path.display(),
            record.listening
        );
        Ok((None, Some(note)))
    }
}

/// Whether process `pid` runs: `Some(false)` when it is gone or a zombie, `None` where this
/// platform cannot tell.
fn process_alive(pid: u32) -> Option<bool> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `PID (COMM) STATE ...`: COMM may hold anything, so the state follows the last `)`.
        Ok(stat) => Some(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                .is_none_or(|state| state != 'Z' && state != 'X'),
        ),
        Err(_) => Some(false),
    }
}

/// Creates `dir` and any missing parents with mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::io("create directory", dir, e))
}

/// Opens (creating) a lock file, never through a symbolic link.
fn open_lock_file(path: &Path) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    no_follow(&mut opts);
    opts.open(path).map_err(|e| Error::io("open", path, e))
}

/// Makes `opts` refuse a symbolic link as the last component (`O_NOFOLLOW`).
fn no_follow(opts: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    #[cfg(not(unix))]
    let _ = opts;
}

/// Refuses `dir` unless the effective user owns it and neither group nor others can write to
/// it; the message names the directory, what was found and the fix.
fn check_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(dir).map_err(|e| Error::io("inspect", dir, e))?;
        let me = rustix::process::geteuid().as_raw();
        if let Some(problem) = dir_problem(dir, meta.uid(), meta.mode(), me) {
            return Err(Error::invalid("data-dir", problem));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// What is wrong with a data directory owned by `owner` with `mode`, for user `me`.
fn dir_problem(dir: &Path, owner: u32, mode: u32, me: u32) -> Option<String> {
    let shown = crate::encoding::shell_quote(&dir.display().to_string());
    if owner != me {
        return Some(format!(
            "{} belongs to uid {owner}, not to you (uid {me}): its owner could read or replace \
             the CA key and signing keys in it. Use a data directory of your own (--data-dir DIR \
             or ${DATA_DIR_ENV}), or as uid {owner} run `chown -R {me} {shown}` if you mean to \
             hand it over",
            dir.display()
        ));
    }
    let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => "its group and every other user",
        (true, false) => "its group",
        (false, true) => "every other user",
        (false, false) => return None,
    };
    Some(format!(
        "{} has mode {:04o}, so {who} can write to it and plant files that Stepmint would read \
         keys from or write keys through. Fix: `chmod go-w {shown}`",
        dir.display(),
        mode & 0o7777
    ))
}

/// Writes `bytes` to `path` atomically with mode 0600.
///
/// The temporary file beside it has a random name (`.NAME.PID.RANDOM.tmp`) and is opened
/// create-new and without following a symbolic link, so nothing planted in the directory can
/// redirect the write; `rename` then replaces `path` itself, never what a link there points to.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().ok_or_else(|| {
        Error::invalid(
            "path",
            format!("{} has no parent directory", path.display()),
        )
    })?;
    create_private_dir(dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut random = [0u8; 8];
    aws_lc_rs::rand::fill(&mut random)
        .map_err(|_| Error::crypto("no randomness for a temporary file name"))?;
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(".{file_name}.{}.{suffix}.tmp", std::process::id()));
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    no_follow(&mut opts);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    // Created by us or not at all: on failure nothing of ours is there to remove.
    let mut file = opts.open(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    let result = (|| {
        file.write_all(bytes)
            .map_err(|e| Error::io("write", &tmp, e))?;
        file.sync_all().map_err(|e| Error::io("sync", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io("rename into place", path, e))?;
        // The rename is durable only once the directory entry is.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Whether `name` is a temporary file of [`write_atomic`] whose writer is gone.
fn stale_temp(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let mut parts = rest.rsplitn(3, '.');
    let (Some(n), Some(pid), Some(_file)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    // Random hex now, a counter before: both are hex digits.
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    // Where there is no /proc to ask, nothing is known to be stale.
    cfg!(target_os = "linux")
        && pid != std::process::id()
        && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Reads `path`, or `None` when it does not exist. Any other failure names the file.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == IoKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Reads a UTF-8 file, or `None` when it does not exist; invalid UTF-8 is a corrupt file.
pub fn read_optional_text(path: &Path) -> Result<Option<String>> {
    match read_optional(path)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::corrupt(path, "not UTF-8 text")),
    }
}

/// Reads and parses a JSON file, or `None` when it does not exist.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match read_optional(path)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::corrupt(path, e)),
    }
}

/// Writes `value` as pretty JSON, atomically, mode 0600.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::invalid("json", format!("cannot serialize {}: {e}", path.display())))?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_is_private_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("key.pem");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dmode = fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dmode, 0o700);
        }
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let stolen = outside.path().join("stolen");
        // Every temporary name this process could have used for ca-key.pem, the way a local
        // user who knows the pid would plant them.
        let pid = std::process::id();
        for n in 0..5000 {
            let name = format!(".ca-key.pem.{pid}.{n}.tmp");
            std::os::unix::fs::symlink(&stolen, dir.path().join(name)).unwrap();
        }
        let key = dir.path().join("ca-key.pem");
        write_atomic(&key, b"PRIVATE KEY").unwrap();
        assert!(
            !stolen.exists(),
            "the key was written through a planted link"
        );
        let meta = fs::symlink_metadata(&key).unwrap();
        assert!(meta.file_type().is_file(), "{key:?} is not a plain file");
        assert_eq!(fs::read(&key).unwrap(), b"PRIVATE KEY");
        // A link at the destination itself is replaced, not followed.
        fs::remove_file(&key).unwrap();
        std::os::unix::fs::symlink(&stolen, &key).unwrap();
        write_atomic(&key, b"AGAIN").unwrap();
        assert!(!stolen.exists());
        assert!(fs::symlink_metadata(&key).unwrap().file_type().is_file());
    }

    #[cfg(unix)]
    #[test]
    fn data_dirs_open_to_others_are_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        // A new data directory (and its missing parents) is private.
        let fresh = tmp.path().join("a").join("stepmint");
        DataDir::open(&fresh).unwrap();
        for d in [&fresh, &tmp.path().join("a")] {
            let mode = fs::metadata(d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{d:?}");
        }
        for (mode, who) in [
            (0o770, "its group can"),
            (0o707, "every other user can"),
            (0o777, "its group and every other user"),
        ] {
            fs::set_permissions(&fresh, fs::Permissions::from_mode(mode)).unwrap();
            let err = DataDir::open(&fresh).unwrap_err().to_string();
            assert!(err.contains(&fresh.display().to_string()), "{err}");
            assert!(err.contains(&format!("mode {mode:04o}")), "{err}");
            assert!(err.contains(who), "{err}");
            assert!(err.contains("chmod go-w"), "{err}");
        }
        fs::set_permissions(&fresh, fs::Permissions::from_mode(0o755)).unwrap();
        DataDir::open(&fresh).unwrap();
        // A key folder left open to others is refused too.
        let ca = fresh.join("ca");
        fs::create_dir(&ca).unwrap();
        fs::set_permissions(&ca, fs::Permissions::from_mode(0o777)).unwrap();
        let err = DataDir::open(&fresh).unwrap_err().to_string();
        assert!(err.contains(&ca.display().to_string()), "{err}");
        fs::set_permissions(&ca, fs::Permissions::from_mode(0o700)).unwrap();
        DataDir::open(&fresh).unwrap();
    }

    #[test]
    fn a_data_dir_of_another_user_is_refused_with_the_fix() {
        let dir = Path::new("/srv/shared stepmint");
        let err = dir_problem(dir, 1001, 0o700, 1000).unwrap();
        assert!(
            err.contains("/srv/shared stepmint belongs to uid 1001"),
            "{err}"
        );
        assert!(err.contains("not to you (uid 1000)"), "{err}");
        assert!(err.contains("--data-dir"), "{err}");
        assert!(
            err.contains("chown -R 1000 '/srv/shared stepmint'"),
            "{err}"
        );
        assert_eq!(dir_problem(dir, 1000, 0o700, 1000), None);
        assert_eq!(dir_problem(dir, 1000, 0o40755, 1000), None);
        let err = dir_problem(dir, 1000, 0o41777, 1000).unwrap();
        assert!(err.contains("mode 1777"), "{err}");
    }

    #[test]
    fn stale_temporary_names_old_and_new() {
        // Another process's file whose process is gone: pid 4000000 is above Linux's maximum.
        assert_eq!(
            stale_temp(".keys.json.4000000.3.tmp"),
            cfg!(target_os = "linux")
        );
        assert_eq!(
            stale_temp(".keys.json.4000000.0f3a9c2b11d04e5f.tmp"),
            cfg!(target_os = "linux")
        );
        let mine = format!(".keys.json.{}.ab.tmp", std::process::id());
        assert!(!stale_temp(&mine));
        assert!(!stale_temp(".keys.json.4000000.xyz.tmp"));
        assert!(!stale_temp("keys.json"));
    }

    #[test]
    fn corrupt_json_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        fs::write(&path, "{not json").unwrap();
        let err = read_json::<serde_json::Value>(&path).unwrap_err();
        assert!(err.to_string().contains("w.json"), "{err}");
        assert!(matches!(err.kind(), crate::ErrorKind::CorruptFile { .. }));
    }

    #[test]
    fn missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_optional(&dir.path().join("nope")).unwrap().is_none());
    }
}
