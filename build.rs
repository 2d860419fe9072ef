//! Embeds the web console and stamps the build with its provenance.
//!
//! The console is `ui/dist`, the front end's build, which is committed: every way of building
//! the binary (a fresh clone, `cargo install`, a crate made by `cargo package`, the static build
//! for the container) then carries it with no Node toolchain and no network, and a build never
//! depends on a path that may not exist (cargo treats a missing watched path as changed and
//! reruns everything each time). `ui/test/dist.test.ts` fails when `ui/dist` is not what
//! `npm run build` makes from `ui/src`.
//!
//! Provenance: `STEPMINT_COMMIT` (the git commit, or the one `cargo package` recorded in
//! `.cargo_vcs_info.json`, else `unknown`) and `STEPMINT_BUILD_DATE` (UTC, from
//! `SOURCE_DATE_EPOCH` when set, for reproducible builds). Only files that exist are watched:
//! the worktree's `HEAD`, its reflog and the branch's loose ref, so an unchanged tree reruns
//! nothing and a commit reruns this once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn watch(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
}

/// `console_assets.rs`: the built console's files, or none.
fn console(root: &Path, out_dir: &Path) {
    let dist = root.join("ui").join("dist");
    if dist.is_dir() {
        watch(&dist);
    } else if root.join("ui").is_dir() {
        // Without a build, watch the directory it would appear in (never a missing path).
        watch(&root.join("ui"));
    }
    let mut found = Vec::new();
    files(&dist, &mut found);
    found.sort();
    let mut text = String::from(
        "/// The built console's files: (path under ui/dist, bytes).\npub static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for p in &found {
        let rel = p
            .strip_prefix(&dist)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/");
        text.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            p.display().to_string()
        ));
    }
    text.push_str("];\n");
    let path = out_dir.join("console_assets.rs");
    let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        panic!("cannot write {}: {e}", path.display());
    }
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The commit this tree was built from, watching only git files that exist.
fn commit(root: &Path) -> String {
    // Only the crate's own repository: a packaged crate unpacked inside another checkout
    // (`target/package/`) must not report that checkout's commit.
    if root.join(".git").exists() {
        for name in ["HEAD", "logs/HEAD"] {
            if let Some(p) = git(root, &["rev-parse", "--git-path", name]) {
                let p = root.join(p);
                if p.is_file() {
                    watch(&p);
                }
            }
        }
        if let Some(r) = git(root, &["symbolic-ref", "-q", "HEAD"])
            && let Some(p) = git(root, &["rev-parse", "--git-path", &r])
            && root.join(&p).is_file()
        {
            watch(&root.join(p));
        }
        if let Some(c) = git(root, &["rev-parse", "HEAD"]) {
            return c;
        }
    }
    // `cargo package` records the commit it packaged.
    let info = root.join(".cargo_vcs_info.json");
    if let Ok(text) = std::fs::read_to_string(&info) {
        watch(&info);
        if let Some(sha) = text
            .split("\"sha1\"")
            .nth(1)
            .and_then(|rest| rest.split('"').nth(1))
            .filter(|s| s.len() >= 7 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            let dirty = text.contains("\"dirty\": true") || text.contains("\"dirty\":true");
            return format!("{sha}{}", if dirty { "-dirty" } else { "" });
        }
    }
    "unknown".into()
}

/// Today (or `SOURCE_DATE_EPOCH`'s day) in UTC as YYYY-MM-DD.
fn build_date() -> String {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
                .unwrap_or(0)
        });
    // Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    console(&root, &out_dir);
    let commit = commit(&root);
    // `-V` shows the first 12 hex digits (a `-dirty` mark stays); `--version` all of it.
    let short = match commit.split_once('-') {
        Some((sha, mark)) => format!("{}-{mark}", &sha[..sha.len().min(12)]),
        None if commit == "unknown" => commit.clone(),
        None => commit[..commit.len().min(12)].to_string(),
    };
    println!("cargo:rustc-env=STEPMINT_COMMIT={commit}");
    println!("cargo:rustc-env=STEPMINT_COMMIT_SHORT={short}");
    println!("cargo:rustc-env=STEPMINT_BUILD_DATE={}", build_date());
    // Whether the C library is linked in (`-C target-feature=+crt-static`), as the container's
    // binary is: the one difference `--version` can show between two builds of one commit.
    let target = std::env::var("TARGET").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let linkage = if features.split(',').any(|f| f == "crt-static") {
        "static"
    } else {
        "dynamic"
    };
    println!("cargo:rustc-env=STEPMINT_TARGET={target}, {linkage}");
}
