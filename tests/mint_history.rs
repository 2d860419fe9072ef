//! A mint asked to keep its token in the history succeeds when the history cannot be written
//! (a full disk): the token comes back with a `warning` saying it was not kept, instead of the
//! whole mint failing (#22).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::util;

async fn start(dir: &Path) -> stepmint::Instance {
    stepmint::Instance::start(
        util::config(dir, &[]),
        Arc::new(stepmint::SystemClock),
        Arc::new(stepmint::IdSource::random()),
    )
    .await
    .unwrap()
}

/// Mints with `?history=true`; the answer must be a good token carrying a warning.
async fn mint_is_kept_back_with_a_warning(instance: &stepmint::Instance) {
    let client = util::owner(instance);
    let base = format!(
        "https://localhost:{}/_stepmint/v1",
        instance.local_addr().port()
    );
    let r = client
        .post(format!("{base}/tokens?history=true"))
        .json(&json!({ "claims": { "team": "qa" } }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let minted: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{minted}");
    let warning = minted["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("not kept in the history"), "{minted}");
    // The token is a genuine one.
    let verified: Value = client
        .post(format!("{base}/verify"))
        .json(&json!({ "token": minted["token"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verified["report"]["accepted"], true, "{verified}");
    assert_eq!(minted["claims"]["team"], "qa");
    // A mint that did not ask for the history has nothing to warn about.
    let plain: Value = client
        .post(format!("{base}/tokens"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(plain.get("warning").is_none(), "{plain}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_file_that_cannot_be_written_still_gives_the_token() {
    let dir = util::data_dir();
    let instance = start(dir.path()).await;
    // A directory where the history file goes: it can be neither read nor replaced.
    std::fs::create_dir(dir.path().join("history.json")).unwrap();
    mint_is_kept_back_with_a_warning(&instance).await;
    instance.stop().await;
}

/// The real thing: the data directory on a tiny tmpfs, filled to the last byte. Mounting needs
/// root (or CAP_SYS_ADMIN); without it the test says so and leaves the case to the one above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_still_gives_the_token() {
    let dir = util::data_dir();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs"])
        .arg(dir.path())
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!(
            "a_full_disk_still_gives_the_token: cannot mount a tmpfs here (not root?); the unwritable-file test covers it"
        );
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(self.0).status();
        }
    }
    let _unmount = Unmount(dir.path());
    let instance = start(dir.path()).await;
    // Fill the filesystem until a write fails with ENOSPC.
    let mut filler = std::fs::File::create(dir.path().join("filler")).unwrap();
    let block = vec![0u8; 4096];
    let full = loop {
        match filler.write(&block) {
            Ok(0) => break std::io::Error::from(std::io::ErrorKind::StorageFull),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert_eq!(full.raw_os_error(), Some(28), "ENOSPC expected: {full}");
    let _ = filler.write_all(&[0]);
    mint_is_kept_back_with_a_warning(&instance).await;
    instance.stop().await;
}
