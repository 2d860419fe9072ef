//! Arbitrary text as bitbucket-pipelines.yml: never panics; every step found is placed in one
//! of the pipeline sections, and is found by its location and (when the name is unique) by its
//! name.

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
        // Finding a step by its location finds a step there.
        let at = stepmint::pipelines::find(&steps, &step.location).expect("find by location");
        assert_eq!(at.location, step.location);
        if let Some(name) = &step.name {
            // By its name: that step when the name is unique (and no location reads the same);
            // an error naming the locations when several steps share it.
            let same = steps.iter().filter(|s| s.name.as_deref() == Some(name.as_str())).count();
            match stepmint::pipelines::find(&steps, name) {
                Ok(found) => assert!(
                    found.location == *name || (same == 1 && found.name.as_deref() == Some(name.as_str())),
                    "{name}: found {}",
                    found.location
                ),
                Err(e) => assert!(same > 1 && e.to_string().contains(&step.location), "{name}: {e}"),
            }
        }
    }
});
