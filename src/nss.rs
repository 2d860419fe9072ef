//! Making browsers trust the local CA. Chromium and Firefox on Linux do not read the system
//! roots or `SSL_CERT_FILE`: they read NSS databases (`~/.pki/nssdb` for Chromium, each Firefox
//! profile's own `cert9.db`). This finds them, creates Chromium's when there is none, and adds
//! the CA with `certutil` (Debian's `libnss3-tools`) as a trusted issuer of server certificates,
//! replacing an older Stepmint CA of the same data directory. macOS and Windows keep roots in the
//! system keychain instead; the README gives their one command each.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, ErrorKind, Result};

/// Where the CA went, or would go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NssTarget {
    /// The database directory (holding `cert9.db`).
    pub dir: PathBuf,
    /// Who reads it: `chromium` or `firefox`.
    pub browser: &'static str,
    /// Whether Stepmint created the database (Chromium had never run).
    pub created: bool,
}

/// The NSS databases under `home`: Chromium's shared one (which need not exist yet) and every
/// Firefox profile with a `cert9.db` (the classic and the snap locations).
pub fn databases(home: &Path) -> Vec<NssTarget> {
    let mut found = vec![NssTarget {
        dir: home.join(".pki").join("nssdb"),
        browser: "chromium",
        created: false,
    }];
    for profiles in [
        home.join(".mozilla").join("firefox"),
        home.join("snap/firefox/common/.mozilla/firefox"),
    ] {
        let Ok(entries) = std::fs::read_dir(&profiles) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("cert9.db").is_file())
            .collect();
        dirs.sort();
        found.extend(dirs.into_iter().map(|dir| NssTarget {
            dir,
            browser: "firefox",
            created: false,
        }));
    }
    found
}

/// The nickname a CA certificate (DER) gets: its SHA-256 in short, so each data directory's CA
/// has its own and reinstalling the same CA replaces it.
pub fn nickname(ca_der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, ca_der);
    let short: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("Stepmint local CA {short}")
}

/// Adds the CA at `ca_pem` to each of `targets` (trusted for TLS servers only), creating a
/// missing Chromium database first. Fails, naming the package, when `certutil` is missing.
pub fn install(ca_pem: &Path, nickname: &str, targets: &mut [NssTarget]) -> Result<()> {
    which_certutil()?;
    for t in targets.iter_mut() {
        if !t.dir.join("cert9.db").is_file() {
            std::fs::create_dir_all(&t.dir).map_err(|e| Error::io("create", t.dir.clone(), e))?;
            certutil(&["-N", "--empty-password", "-d", &db(&t.dir)])?;
            t.created = true;
        }
        // An older copy under the same nickname (the CA was regenerated) would shadow the new one.
        let _ = certutil(&["-D", "-n", nickname, "-d", &db(&t.dir)]);
        let pem = ca_pem.to_string_lossy();
        certutil(&[
            "-A",
            "-t",
            "C,,",
            "-n",
            nickname,
            "-i",
            &pem,
            "-d",
            &db(&t.dir),
        ])?;
    }
    Ok(())
}

/// Removes the CA named `nickname` from each of `targets` that holds it; returns those that did.
pub fn uninstall(nickname: &str, targets: &[NssTarget]) -> Result<Vec<NssTarget>> {
    which_certutil()?;
    let mut removed = Vec::new();
    for t in targets {
        if t.dir.join("cert9.db").is_file()
            && certutil(&["-D", "-n", nickname, "-d", &db(&t.dir)]).is_ok()
        {
            removed.push(t.clone());
        }
    }
    Ok(removed)
}

/// Whether `nickname` is in the database at `dir`, trusted as a server CA.
pub fn trusted(dir: &Path, nickname: &str) -> Result<bool> {
    if !dir.join("cert9.db").is_file() {
        return Ok(false);
    }
    which_certutil()?;
    let out = run(&["-L", "-d", &db(dir)])?;
    Ok(out
        .lines()
        .any(|l| l.starts_with(nickname) && l.trim_end().ends_with("C,,")))
}

fn db(dir: &Path) -> String {
    format!("sql:{}", dir.display())
}

fn which_certutil() -> Result<()> {
    match Command::new("certutil").arg("-H").output() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(tool(
            "not found: browsers on Linux keep their roots in NSS databases, which only certutil \
             writes; install it (Debian/Ubuntu: `sudo apt-get install libnss3-tools`, Fedora: \
             `sudo dnf install nss-tools`, Arch: `sudo pacman -S nss`) and run this again",
        )),
        Err(e) => Err(tool(&format!("cannot run it: {e}"))),
    }
}

fn certutil(args: &[&str]) -> Result<()> {
    run(args).map(|_| ())
}

fn run(args: &[&str]) -> Result<String> {
    let out = Command::new("certutil")
        .args(args)
        .output()
        .map_err(|e| tool(&format!("cannot run it: {e}")))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let why = String::from_utf8_lossy(&out.stderr);
    Err(tool(&format!(
        "`certutil {}` failed ({}): {}",
        args.join(" "),
        out.status,
        why.trim()
    )))
}

fn tool(message: &str) -> Error {
    ErrorKind::Tool {
        tool: "certutil".into(),
        message: message.into(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_first_then_firefox_profiles_with_a_database() {
        let home = tempfile::tempdir().unwrap();
        let ff = home.path().join(".mozilla/firefox");
        for (profile, db) in [("b.default", true), ("a.dev", true), ("c.empty", false)] {
            std::fs::create_dir_all(ff.join(profile)).unwrap();
            if db {
                std::fs::write(ff.join(profile).join("cert9.db"), b"").unwrap();
            }
        }
        let found = databases(home.path());
        let names: Vec<(&str, PathBuf)> =
            found.iter().map(|t| (t.browser, t.dir.clone())).collect();
        assert_eq!(
            names,
            vec![
                ("chromium", home.path().join(".pki/nssdb")),
                ("firefox", ff.join("a.dev")),
                ("firefox", ff.join("b.default")),
            ]
        );
    }

    #[test]
    fn the_nickname_follows_the_ca() {
        // SHA-256("abc") starts ba7816bf8f01cfea.
        assert_eq!(nickname(b"abc"), "Stepmint local CA BA7816BF8F01CFEA");
        assert_ne!(nickname(b"a"), nickname(b"b"));
    }
}
