//! Workspaces: the identity (slug and UUID) each issuer stands for, persisted with its keys.
//!
//! A workspace lives in `workspaces/{slug}/` of the data directory: `workspace.json` (its UUID
//! and the default repository UUID used when a mint request names none) and its key ring. The
//! UUIDs are generated once and reused, so tokens minted on different days or by the CLI and
//! the server describe the same workspace.

use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::IdSource;
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::store::{self, DataDir};

/// The workspace served when none is configured.
pub const DEFAULT_WORKSPACE: &str = "stepmint";

/// A workspace as configured: its slug and, optionally, a fixed UUID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct WorkspaceSpec {
    /// The workspace slug (lower-case letters, digits, `-`, `_`, `.`).
    pub slug: String,
    /// The workspace UUID, braces optional. Default: generated once and persisted.
    #[serde(default)]
    pub uuid: Option<String>,
}

impl WorkspaceSpec {
    /// Parses `SLUG` or `SLUG=UUID`, as the `--workspace` flag takes it.
    pub fn parse(text: &str) -> Result<WorkspaceSpec> {
        let (slug, uuid) = match text.split_once('=') {
            Some((s, u)) => (s, Some(u.to_string())),
            None => (text, None),
        };
        validate_slug(slug)?;
        if let Some(u) = &uuid {
            parse_uuid("workspace", u)?;
        }
        Ok(WorkspaceSpec {
            slug: slug.to_string(),
            uuid,
        })
    }
}

/// Checks a workspace slug: 1-62 characters of `a-z 0-9 - _ .`, starting with a letter or digit.
pub fn validate_slug(slug: &str) -> Result<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 62
        && slug.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
        && slug.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "workspace",
            format!(
                "`{slug}` is not a workspace slug (1-62 of a-z 0-9 - _ ., starting with a letter or digit)"
            ),
        ))
    }
}

/// Parses a UUID written `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, with or without braces.
pub fn parse_uuid(field: &str, text: &str) -> Result<Uuid> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    if inner.len() == 36
        && let Ok(u) = Uuid::try_parse(inner)
    {
        return Ok(u);
    }
    Err(Error::invalid(
        field,
        format!(
            "`{text}` is not a UUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, braces optional)"
        ),
    ))
}

/// A UUID the way Bitbucket writes it in tokens: `{xxxxxxxx-...}`.
pub fn braced(uuid: &Uuid) -> String {
    format!("{{{}}}", uuid.hyphenated())
}

#[derive(Debug, Serialize, Deserialize)]
struct WorkspaceFile {
    slug: String,
    uuid: String,
    default_repository_uuid: String,
    created: i64,
}

/// A workspace with its persisted identity and signing keys.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The slug.
    pub slug: String,
    /// The workspace UUID.
    pub uuid: Uuid,
    /// The repository UUID used when a mint request names none.
    pub default_repository_uuid: Uuid,
    /// The signing keys.
    pub keys: KeyRing,
}

impl Workspace {
    /// Loads the workspace `spec.slug` from `data`, creating it (and its first key) if new.
    ///
    /// A UUID in `spec` that differs from the persisted one replaces it: the configuration
    /// says which workspace this is. The caller should hold the directory lock.
    pub fn load_or_create(
        data: &DataDir,
        spec: &WorkspaceSpec,
        ids: &IdSource,
        now: i64,
    ) -> Result<Workspace> {
        validate_slug(&spec.slug)?;
        let dir = data.workspace_dir(&spec.slug);
        let path = crate::store::workspace_file(&dir);
        let wanted = spec
            .uuid
            .as_deref()
            .map(|u| parse_uuid("workspace", u))
            .transpose()?;
        let (uuid, repo) = match store::read_json::<WorkspaceFile>(&path)? {
            Some(file) => {
                let uuid = parse_uuid("uuid", &file.uuid).map_err(|e| Error::corrupt(&path, e))?;
                let repo = parse_uuid("default_repository_uuid", &file.default_repository_uuid)
                    .map_err(|e| Error::corrupt(&path, e))?;
                if file.slug != spec.slug {
                    return Err(Error::corrupt(
                        &path,
                        format!("it is for workspace `{}`", file.slug),
                    ));
                }
                match wanted {
                    Some(w) if w != uuid => {
                        save(&path, &spec.slug, &w, &repo, file.created)?;
                        (w, repo)
                    }
                    _ => (uuid, repo),
                }
            }
            None => {
                let uuid = wanted.unwrap_or_else(|| ids.uuid());
                let repo = ids.uuid();
                save(&path, &spec.slug, &uuid, &repo, now)?;
                (uuid, repo)
            }
        };
        let keys = KeyRing::load_or_create(&dir, now)?;
        Ok(Workspace {
            slug: spec.slug.clone(),
            uuid,
            default_repository_uuid: repo,
            keys,
        })
    }

    /// Ok if workspace `slug` exists in `data`: for commands that only read one, which must
    /// not create it (with a new key) because of a typo.
    pub fn require_persisted(data: &DataDir, slug: &str) -> Result<()> {
        let known = Self::persisted(data)?;
        if known.iter().any(|s| s == slug) {
            return Ok(());
        }
        let known = if known.is_empty() {
            "none yet".to_string()
        } else {
            known.join(", ")
        };
        Err(Error::invalid(
            "workspace",
            format!(
                "no workspace `{slug}` in {} (known: {known}); create it with `stepmint workspaces add {slug}{}`",
                data.root().display(),
                data_dir_flag(data)
            ),
        ))
    }

    /// Checks that a command may use workspace `slug` of `data` without creating it: it exists,
    /// or it is the default one and none exists yet (a fresh data directory). A typo is an
    /// error listing the known workspaces; nothing is written.
    pub fn require_usable(data: &DataDir, slug: &str) -> Result<()> {
        validate_slug(slug)?;
        if slug == DEFAULT_WORKSPACE && Self::persisted(data)?.is_empty() {
            return Ok(());
        }
        Self::require_persisted(data, slug)
    }

    /// Creates workspace `spec` in `data`, with its first key; an error if it exists.
    pub fn create(data: &DataDir, spec: &WorkspaceSpec, now: i64) -> Result<Workspace> {
        validate_slug(&spec.slug)?;
        let _lock = data.lock()?;
        if Self::persisted(data)?.contains(&spec.slug) {
            return Err(Error::invalid(
                "workspace",
                format!("workspace `{}` exists already", spec.slug),
            ));
        }
        Self::load_or_create(data, spec, &IdSource::random(), now)
    }

    /// Removes workspace `slug` and its keys from `data`. Its files are gone for good.
    pub fn remove(data: &DataDir, slug: &str) -> Result<()> {
        let _lock = data.lock()?;
        Self::require_persisted(data, slug)?;
        let dir = data.workspace_dir(slug);
        // Renamed first, so a crash mid-removal never leaves a half workspace under its name.
        let doomed = data
            .workspaces_dir()
            .join(format!(".removed-{slug}-{}", std::process::id()));
        std::fs::rename(&dir, &doomed).map_err(|e| Error::io("remove", &dir, e))?;
        std::fs::remove_dir_all(&doomed).map_err(|e| Error::io("remove", &doomed, e))
    }

    /// Slugs of the workspaces persisted in `data`, sorted.
    pub fn persisted(data: &DataDir) -> Result<Vec<String>> {
        let dir = data.workspaces_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read directory", &dir, e)),
        };
        let mut slugs: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| crate::store::workspace_file(&e.path()).is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|s| validate_slug(s).is_ok())
            .collect();
        slugs.sort();
        Ok(slugs)
    }

    /// The default audience Bitbucket puts in every step token of this workspace.
    pub fn default_audience(&self) -> String {
        format!("ari:cloud:bitbucket::workspace/{}", self.uuid.hyphenated())
    }
}

/// ` --data-dir DIR` when `data` is not the directory a bare command uses (the environment's
/// `STEPMINT_DATA_DIR`, else the platform's), so a suggested command works when pasted.
pub fn data_dir_flag(data: &DataDir) -> String {
    let implicit = match std::env::var_os(store::DATA_DIR_ENV) {
        Some(dir) if !dir.is_empty() => Some(std::path::PathBuf::from(dir)),
        _ => DataDir::platform_default().ok(),
    };
    let implicit = implicit.and_then(|d| std::path::absolute(d).ok());
    if implicit.as_deref() == Some(data.root()) {
        String::new()
    } else {
        format!(
            " --data-dir {}",
            crate::encoding::shell_quote(&data.root().to_string_lossy())
        )
    }
}

fn save(path: &Path, slug: &str, uuid: &Uuid, repo: &Uuid, created: i64) -> Result<()> {
    store::write_json(
        path,
        &WorkspaceFile {
            slug: slug.to_string(),
            uuid: braced(uuid),
            default_repository_uuid: braced(repo),
            created,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_with_and_without_braces() {
        let a = parse_uuid("f", "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}").unwrap();
        let b = parse_uuid("f", "0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60").unwrap();
        assert_eq!(a, b);
        assert_eq!(braced(&a), "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}");
        for bad in [
            "",
            "{}",
            "0b5f3c1e2f3a4d4b9a551b2c3d4e5f60",
            "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60",
            "zzzzzzzz-2f3a-4d4b-9a55-1b2c3d4e5f60",
        ] {
            let err = parse_uuid("repository_uuid", bad).unwrap_err();
            assert!(err.to_string().starts_with("repository_uuid:"), "{err}");
        }
    }

    #[test]
    fn slugs() {
        assert!(WorkspaceSpec::parse("acme-corp").is_ok());
        assert!(WorkspaceSpec::parse("acme=0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60").is_ok());
        for bad in ["", "Acme", "../x", "a/b", "-x", "acme=nope"] {
            assert!(WorkspaceSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identity_persists_and_config_uuid_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::open(tmp.path()).unwrap();
        let ids = IdSource::seeded(1);
        let spec = WorkspaceSpec::parse("acme").unwrap();
        let first = Workspace::load_or_create(&data, &spec, &ids, 0).unwrap();
        let again = Workspace::load_or_create(&data, &spec, &IdSource::seeded(2), 0).unwrap();
        assert_eq!(first.uuid, again.uuid);
        assert_eq!(first.keys.active().kid(), again.keys.active().kid());
        let fixed = WorkspaceSpec::parse("acme={0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}").unwrap();
        let moved = Workspace::load_or_create(&data, &fixed, &ids, 0).unwrap();
        assert_eq!(
            braced(&moved.uuid),
            "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}"
        );
        assert_eq!(moved.keys.active().kid(), first.keys.active().kid());
        assert_eq!(Workspace::persisted(&data).unwrap(), ["acme"]);
    }
}
