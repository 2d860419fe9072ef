//! Arbitrary text as bitbucket-pipelines.yml: never panics; every step found is placed in one
//! of the pipeline sections and carries at most what Bitbucket allows it to name.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(steps) = stepmint::pipelines::parse(text, Path::new("fuzz.yml")) else { return };
    for step in &steps {
        assert!(
            ["default", "branches.", "tags.", "pull-requests.", "custom."].iter().any(|p| step.location.starts_with(p)),
            "{}",
            step.location
        );
        if let Some(name) = &step.name {
            // Finding a step by its own name finds a step with that name.
            let found = stepmint::pipelines::find(&steps, name).expect("find by name");
            assert_eq!(found.name.as_deref(), Some(name.as_str()));
        }
    }
});
