//! Shared set-up: an issuer over a copy of the committed golden data directory, with the clock
//! fixed, so seeds in the corpus (golden tokens) verify.

use std::path::Path;
use std::sync::Arc;

use stepmint::{FixedClock, IdSource, Issuer, IssuerOptions, WorkspaceSpec};

pub const NOW: i64 = 1_893_456_000;

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub issuer: Arc<Issuer>,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for e in std::fs::read_dir(from).expect("fixture directory") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/golden-data"), dir.path());
    let mut options = IssuerOptions::new(dir.path(), "https://localhost:8443");
    options.workspaces = vec![WorkspaceSpec::parse("golden").expect("slug")];
    let issuer = Issuer::open(options, Arc::new(FixedClock(NOW)), Arc::new(IdSource::seeded(7))).expect("issuer");
    Fixture { _dir: dir, issuer: Arc::new(issuer) }
}
