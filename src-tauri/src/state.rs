//! The app's managed state: where the data lives, the desktop settings (bind, port, served
//! workspaces), and the running issuer, if any.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use stepmint::{
    Config, DEFAULT_PORT, DataDir, History, IdSource, Instance, SystemClock, WorkspaceSpec,
};
use tokio::sync::Mutex;

/// What the app remembers between runs (`desktop.json` in the data directory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Listen address.
    pub bind: std::net::IpAddr,
    /// Port; when busy, the app falls back to a free one and says so.
    pub port: u16,
    /// Served workspaces; empty means every persisted one.
    pub workspaces: Vec<WorkspaceSpec>,
}

impl Default for Settings {
    fn default() -> Self {
        let c = Config::default();
        Settings {
            bind: c.bind,
            port: DEFAULT_PORT,
            workspaces: Vec::new(),
        }
    }
}

struct Running {
    instance: Instance,
    note: Option<String>,
}

/// Shared app state.
#[derive(Clone)]
pub struct Desktop {
    pub data_dir: PathBuf,
    pub history: History,
    settings: Arc<Mutex<Settings>>,
    running: Arc<Mutex<Option<Running>>>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl Desktop {
    /// The same data directory as the CLI: `$STEPMINT_DATA_DIR` or the platform default.
    pub fn from_environment() -> stepmint::Result<Desktop> {
        Desktop::new(Config::default().resolve_data_dir()?)
    }

    /// State over `data_dir`, with its saved settings.
    pub fn new(data_dir: PathBuf) -> stepmint::Result<Desktop> {
        let data = DataDir::open(&data_dir)?;
        let settings = std::fs::read(data.desktop_settings())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Ok(Desktop {
            history: History::new(data),
            data_dir,
            settings: Arc::new(Mutex::new(settings)),
            running: Arc::new(Mutex::new(None)),
            last_error: Arc::new(Mutex::new(None)),
        })
    }

    pub async fn settings(&self) -> Settings {
        self.settings.lock().await.clone()
    }

    pub async fn save_settings(&self, settings: Settings) -> stepmint::Result<()> {
        let bytes = serde_json::to_vec_pretty(&settings).unwrap_or_default();
        stepmint::write_atomic(&DataDir::open(&self.data_dir)?.desktop_settings(), &bytes)?;
        *self.settings.lock().await = settings;
        Ok(())
    }

    fn config(&self, settings: &Settings, port: u16) -> Config {
        Config {
            data_dir: Some(self.data_dir.clone()),
            bind: settings.bind,
            port,
            workspaces: settings.workspaces.clone(),
            ..Config::default()
        }
    }

    /// Starts the issuer if it is not running. A busy port falls back to a free one.
    pub async fn start(&self) -> stepmint::Result<()> {
        let mut running = self.running.lock().await;
        if running.is_some() {
            return Ok(());
        }
        let settings = self.settings().await;
        let start = |port| {
            Instance::start(
                self.config(&settings, port),
                Arc::new(SystemClock),
                Arc::new(IdSource::random()),
            )
        };
        let result = match start(settings.port).await {
            Err(e)
                if matches!(e.kind(), stepmint::ErrorKind::Bind { .. }) && settings.port != 0 =>
            {
                let note = format!("{e}; serving on a free port instead");
                start(0).await.map(|i| (i, Some(note)))
            }
            other => other.map(|i| (i, None)),
        };
        match result {
            Ok((instance, note)) => {
                *running = Some(Running { instance, note });
                *self.last_error.lock().await = None;
                Ok(())
            }
            Err(e) => {
                *self.last_error.lock().await = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Stops the issuer if it runs.
    pub async fn stop(&self) {
        if let Some(r) = self.running.lock().await.take() {
            r.instance.stop().await;
        }
    }

    /// Runs `f` with the running instance, or fails with a readable message.
    pub async fn with_instance<T>(&self, f: impl FnOnce(&Instance) -> T) -> Result<T, String> {
        let running = self.running.lock().await;
        match running.as_ref() {
            Some(r) => Ok(f(&r.instance)),
            None => Err(match self.last_error.lock().await.clone() {
                Some(e) => format!("the issuer is not running: {e}"),
                None => "the issuer is not running; start it on the Issuer screen".into(),
            }),
        }
    }

    /// The running server's shared state (what `stepmint::http::service` takes), or why there is none.
    pub async fn server(&self) -> Result<stepmint::http::AppState, String> {
        self.with_instance(|i| i.state().clone()).await
    }

    /// A note about how the issuer was started (a fallback port), if any.
    pub async fn note(&self) -> Option<String> {
        self.running
            .lock()
            .await
            .as_ref()
            .and_then(|r| r.note.clone())
    }

    /// The last start-up error.
    pub async fn last_error(&self) -> Option<String> {
        self.last_error.lock().await.clone()
    }
}
