//! Embeds the built web console (`ui/dist`, from `npm run build` in `ui/`) into the binary, so
//! one file is still all a user installs. Without a build the console says how to make one.

use std::io::Write;
use std::path::{Path, PathBuf};

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

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = root.join("ui").join("dist");
    println!("cargo:rerun-if-changed=ui/dist");
    println!("cargo:rerun-if-changed=build.rs");
    let mut found = Vec::new();
    files(&dist, &mut found);
    found.sort();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let mut f = match std::fs::File::create(out_dir.join("console_assets.rs")) {
        Ok(f) => f,
        Err(e) => panic!("cannot write the console's asset list: {e}"),
    };
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
    if let Err(e) = f.write_all(text.as_bytes()) {
        panic!("cannot write the console's asset list: {e}");
    }
}
