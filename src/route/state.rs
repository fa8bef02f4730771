//! What a route serves with: `route.yaml` and `senders.yaml` as mounted from the ConfigMap and
//! Secret the operator applies (DESIGN §3), read and checked as a whole, and reloaded when the
//! files change. A change that does not parse keeps the last good state in use (and is reported),
//! so a bad edit never takes a serving route down; messages in flight finish with the state they
//! started with.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::config::{RouteConfig, SendersFile};
use super::forward::Backend;
use super::senders::Senders;

/// The files a route reads.
#[derive(Clone, Debug)]
pub struct Files {
    /// `route.yaml`.
    pub config: PathBuf,
    /// `senders.yaml`.
    pub senders: PathBuf,
}

/// A consistent state: the config, its senders and its backend.
#[derive(Debug)]
pub struct Loaded {
    /// The route config.
    pub config: RouteConfig,
    /// The senders, ready for lookups.
    pub senders: Senders,
    /// The backend client (kept across reloads that do not change the backend).
    pub backend: Arc<Backend>,
}

/// What identifies a version of a file: size, modification time, inode. Kubernetes updates a
/// mounted ConfigMap or Secret by swapping a symlink, which changes all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    ino: u64,
}

/// The stamp of a file (following symlinks), or `None` when it cannot be read.
pub fn stamp(p: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(p).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        ino,
    })
}

/// The stamps of every file a state depends on (config, senders, backend CA and authorization).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stamps {
    /// `route.yaml`.
    pub config: Option<Stamp>,
    /// `senders.yaml`.
    pub senders: Option<Stamp>,
    /// The backend's CA bundle and authorization files.
    pub backend: Vec<Option<Stamp>>,
}

fn backend_files(cfg: &RouteConfig) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(ca) = &cfg.backend.ca_file {
        v.push(PathBuf::from(ca));
    }
    if let Some(d) = &cfg.backend.auth_dir {
        v.push(Path::new(d).join("username"));
        v.push(Path::new(d).join("password"));
    }
    v
}

impl Stamps {
    /// The stamps now, for the config `cfg` (whose backend files are watched too).
    pub fn now(files: &Files, cfg: Option<&RouteConfig>) -> Stamps {
        Stamps {
            config: stamp(&files.config),
            senders: stamp(&files.senders),
            backend: cfg
                .map(|c| backend_files(c).iter().map(|p| stamp(p)).collect())
                .unwrap_or_default(),
        }
    }
}

/// Why a state could not be loaded: the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// `route.yaml`, `senders.yaml` or `backend`.
    pub file: &'static str,
    /// The problem, naming the field.
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

fn read(p: &Path, file: &'static str) -> Result<String, LoadError> {
    std::fs::read_to_string(p).map_err(|e| LoadError {
        file,
        message: format!("{}: {e}", p.display()),
    })
}

/// Reads the route config alone (for the listen address before the first full load).
pub fn read_config(files: &Files) -> Result<RouteConfig, LoadError> {
    let text = read(&files.config, "route.yaml")?;
    serde_saphyr::from_str(&text).map_err(|e| LoadError {
        file: "route.yaml",
        message: e.to_string(),
    })
}

/// Loads a whole state; `previous` lends its backend client when the backend did not change.
pub fn load(
    files: &Files,
    max_answer: usize,
    previous: Option<(&Loaded, bool)>,
) -> Result<Loaded, LoadError> {
    let config = read_config(files)?;
    if config.service_key.trim().is_empty() {
        return Err(LoadError {
            file: "route.yaml",
            message: "serviceKey is empty".into(),
        });
    }
    let text = read(&files.senders, "senders.yaml")?;
    let sf: SendersFile = serde_saphyr::from_str(&text).map_err(|e| LoadError {
        file: "senders.yaml",
        message: e.to_string(),
    })?;
    let senders = Senders::from_file(&sf).map_err(|message| LoadError {
        file: "senders.yaml",
        message,
    })?;
    let backend = match previous {
        Some((p, backend_files_same))
            if backend_files_same && p.config.backend == config.backend =>
        {
            p.backend.clone()
        }
        _ => Arc::new(
            Backend::new(&config.backend, max_answer).map_err(|message| LoadError {
                file: "backend",
                message,
            })?,
        ),
    };
    Ok(Loaded {
        config,
        senders,
        backend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const CONFIG: &str = "serviceKey: S\nservice: ns/s\ncontour: test\nmode: Sync\nprotocol: Soap\nbackend:\n  url: http://127.0.0.1:9/\n  timeoutSeconds: 30\nsla:\n  maxProcessingSeconds: 30\n  averageProcessingSeconds: 10\n  peakPerHour: 2000\n  nominalPerHour: 360\n  recoveryHours: 3\nlisten: 0.0.0.0:8080\n";

    #[test]
    fn loads_and_names_the_file_at_fault() {
        let d = tempfile::tempdir().unwrap();
        let files = Files {
            config: d.path().join("route.yaml"),
            senders: d.path().join("senders.yaml"),
        };
        std::fs::write(&files.config, CONFIG).unwrap();
        std::fs::write(&files.senders, "senders: []\n").unwrap();
        let l = load(&files, 1024, None).unwrap();
        assert_eq!(l.config.service_key, "S");
        assert!(l.senders.is_empty());
        std::fs::write(&files.senders, "senders: [{senderId: a}]\n").unwrap();
        let e = load(&files, 1024, Some((&l, true))).unwrap_err();
        assert_eq!(e.file, "senders.yaml");
        std::fs::write(&files.config, "serviceKey: S\n").unwrap();
        assert_eq!(load(&files, 1024, None).unwrap_err().file, "route.yaml");
        let before = Stamps::now(&files, None);
        std::fs::write(&files.config, CONFIG.replace("S\n", "T\n")).unwrap();
        assert_ne!(before, Stamps::now(&files, None));
    }
}
