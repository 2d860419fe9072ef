//! Reading recipes from disk: one file (`mint --recipe FILE`) or a directory of them
//! (`probe --recipes DIR`), as files someone else may have put there.
//!
//! A recipe directory often comes from a repository or a colleague, so what is in it is not
//! trusted: a link that leads out of the directory is skipped (it could point at a secret, and a
//! parse error would have shown its first line), so is anything that is not a regular file (a
//! FIFO would block the read forever), each with the reason, for the front end to say. Files are
//! opened without blocking and checked for what they are before anything is read, and reads
//! are bounded: a recipe is at most [`MAX_RECIPE_LEN`] bytes, a directory's at most
//! [`MAX_RECIPE_DIR_LEN`] together.

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::recipe::Recipe;
use crate::error::{Error, Result};

/// The largest recipe file read, in bytes.
pub const MAX_RECIPE_LEN: usize = 1024 * 1024;
/// The most recipe text read from one directory, in bytes.
pub const MAX_RECIPE_DIR_LEN: usize = 64 * 1024 * 1024;

/// A directory's recipes and the files passed over.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeDir {
    /// The recipes, sorted by file name.
    pub recipes: Vec<Recipe>,
    /// `*.toml` entries not read, with why.
    pub skipped: Vec<Skipped>,
}

/// A `*.toml` entry of a recipe directory that was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The entry.
    pub path: PathBuf,
    /// Why it was passed over.
    pub why: String,
}

impl Recipe {
    /// Reads one recipe file (following a link: the caller named it). Anything but a regular
    /// file is refused without blocking; so is a file over [`MAX_RECIPE_LEN`].
    pub fn load(path: &Path) -> Result<Recipe> {
        let bytes = read_bounded(path)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid("recipe", format!("{}: not UTF-8", path.display())))?;
        Recipe::from_toml(&text, path)
    }

    /// Every `*.toml` regular file in `dir` (links included while they stay in it), sorted by
    /// file name, and the entries passed over.
    pub fn load_dir(dir: &Path) -> Result<RecipeDir> {
        let root = fs::canonicalize(dir).map_err(|e| Error::io("read", dir, e))?;
        let entries = fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
        let mut paths = Vec::new();
        let mut skipped = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", dir, e))?;
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            match why_not_a_recipe_file(&root, &path) {
                None => paths.push(path),
                Some(why) => skipped.push(Skipped { path, why }),
            }
        }
        paths.sort();
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        let mut total = 0usize;
        let mut recipes = Vec::new();
        for path in &paths {
            let bytes = read_bounded(path)?;
            total += bytes.len();
            if total > MAX_RECIPE_DIR_LEN {
                return Err(Error::invalid(
                    "recipes",
                    format!(
                        "{}: more than {} MiB of recipes; split them into smaller directories",
                        dir.display(),
                        MAX_RECIPE_DIR_LEN / (1024 * 1024)
                    ),
                ));
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::invalid("recipe", format!("{}: not UTF-8", path.display())))?;
            recipes.push(Recipe::from_toml(&text, path)?);
        }
        Ok(RecipeDir { recipes, skipped })
    }
}

/// Why the entry at `path` in the directory `root` (canonical) is not read; `None` to read it.
fn why_not_a_recipe_file(root: &Path, path: &Path) -> Option<String> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot be inspected: {e}")),
    };
    let meta = if meta.file_type().is_symlink() {
        let Ok(target) = fs::canonicalize(path) else {
            return Some("a symbolic link to nothing".into());
        };
        if !target.starts_with(root) {
            return Some("a symbolic link that leads out of the directory".into());
        }
        match fs::metadata(&target) {
            Ok(m) => m,
            Err(e) => return Some(format!("cannot be inspected: {e}")),
        }
    } else {
        meta
    };
    (!meta.is_file()).then(|| format!("not a regular file ({})", kind(&meta)))
}

/// What a file that is not a regular one is, for messages.
fn kind(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Opens `path` without blocking (a FIFO with no writer would block an ordinary open forever),
/// refuses anything but a regular file, and reads at most [`MAX_RECIPE_LEN`] bytes of it.
fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file: File = opts.open(path).map_err(|e| Error::io("open", path, e))?;
    let meta = file.metadata().map_err(|e| Error::io("inspect", path, e))?;
    if !meta.is_file() {
        return Err(Error::invalid(
            "recipe",
            format!(
                "{}: not a regular file ({}); a recipe is a *.toml file",
                path.display(),
                kind(&meta)
            ),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_RECIPE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() > MAX_RECIPE_LEN {
        return Err(Error::invalid(
            "recipe",
            format!(
                "{}: larger than {} KiB, too large for a recipe",
                path.display(),
                MAX_RECIPE_LEN / 1024
            ),
        ));
    }
    Ok(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const GOOD: &str = "name = \"good\"\n[[edits]]\nop = \"remove_claim\"\nname = \"sub\"\n";
    const SECRET: &str = "aws_secret_access_key = \"SECRET-hunter2\"\n";

    #[test]
    fn links_out_fifos_and_directories_are_skipped_and_said() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(outside.path().join("credentials"), SECRET).unwrap();
        fs::write(d.join("a-good.toml"), GOOD).unwrap();
        std::os::unix::fs::symlink(outside.path().join("credentials"), d.join("b-secret.toml"))
            .unwrap();
        // A link that stays inside is a recipe like any other.
        std::os::unix::fs::symlink(d.join("a-good.toml"), d.join("c-alias.toml")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(d.join("d-pipe.toml"))
            .status()
            .unwrap();
        assert!(made.success());
        fs::create_dir(d.join("e-dir.toml")).unwrap();
        std::os::unix::fs::symlink(d.join("nothing"), d.join("f-dangling.toml")).unwrap();
        fs::write(d.join("notes.txt"), SECRET).unwrap();

        let loaded = Recipe::load_dir(d).unwrap();
        let names: Vec<&str> = loaded.recipes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["good", "good"]);
        let skipped: Vec<(String, &str)> = loaded
            .skipped
            .iter()
            .map(|s| {
                let name = s.path.file_name().unwrap().to_string_lossy().into_owned();
                (name, s.why.as_str())
            })
            .collect();
        assert_eq!(
            skipped,
            [
                (
                    "b-secret.toml".to_string(),
                    "a symbolic link that leads out of the directory"
                ),
                ("d-pipe.toml".to_string(), "not a regular file (a FIFO)"),
                ("e-dir.toml".to_string(), "not a regular file (a directory)"),
                ("f-dangling.toml".to_string(), "a symbolic link to nothing"),
            ]
        );
    }

    #[test]
    fn a_fifo_named_directly_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.toml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Without a writer an ordinary open never returns: this test hangs on a blocking read.
        let err = Recipe::load(&fifo).unwrap_err().to_string();
        assert!(
            err.contains("pipe.toml: not a regular file (a FIFO)"),
            "{err}"
        );
    }

    #[test]
    fn oversized_recipes_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        let mut text = String::from(GOOD);
        while text.len() <= MAX_RECIPE_LEN {
            text.push_str("# SECRET-filler line\n");
        }
        fs::write(&big, &text).unwrap();
        let err = Recipe::load(&big).unwrap_err().to_string();
        assert!(err.contains("big.toml: larger than 1024 KiB"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
        let err = Recipe::load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("larger than 1024 KiB"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_recipe_is_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("creds.toml", SECRET, "not a recipe"),
            (
                "shadow.toml",
                "root:$6$SECRET-hash:19000:0:99999:7:::\n",
                "not TOML",
            ),
            ("env.toml", "TOKEN=SECRET-abc\n", "not TOML"),
        ];
        for (name, text, says) in cases {
            let path = dir.path().join(name);
            fs::write(&path, text).unwrap();
            let err = Recipe::load(&path).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains(says), "{err}");
            assert!(!err.contains("SECRET"), "{name}: {err}");
        }
        // A recipe's own mistakes are placed by line and column.
        let path = dir.path().join("typo.toml");
        fs::write(&path, "name = \"x\"\n[[edits]]\nop = \"nope\"\n").unwrap();
        let err = Recipe::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("typo.toml:3:6") && err.contains("nope"),
            "{err}"
        );
    }
}
