//! `shep`: the command line of shep-operator (DESIGN §6). A thin layer over the library.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the route allocates a few short-lived buffers per message on every worker thread,
/// which glibc's allocator serves markedly slower (see docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use shep_operator::commands::{self, Failure, render};
use shep_operator::render::RenderSettings;

#[derive(Parser)]
#[command(
    name = "shep",
    version,
    about = "Kazakhstan's e-government integration rules (SHEP) as a Kubernetes operator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every CRD as multi-document YAML (the source of crds/).
    Crds,
    /// Compute statuses and child objects for manifests, as the operator would.
    Render {
        /// Files or folders of manifests (YAML or JSON, multi-document).
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// The clock, RFC 3339 (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Calendar file: daysOff, workingDays, kurbanAit.
        #[arg(long)]
        calendar: Option<PathBuf>,
        /// Image of the route workloads.
        #[arg(long)]
        route_image: Option<String>,
        /// Namespace of the metrics scraper admitted by route NetworkPolicies.
        #[arg(long, default_value = "monitoring")]
        metrics_namespace: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value = "yaml")]
        output: render::Output,
        /// Print the passwords the operator would issue instead of hiding them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Run the controllers against a cluster (kubeconfig or in-cluster configuration).
    Operator {
        /// Calendar file: daysOff, workingDays, kurbanAit.
        #[arg(long, env = "SHEP_CALENDAR")]
        calendar: Option<PathBuf>,
        /// Image of the route workloads.
        #[arg(long, env = "SHEP_ROUTE_IMAGE")]
        route_image: Option<String>,
        /// Namespace of the metrics scraper admitted by route NetworkPolicies.
        #[arg(long, env = "SHEP_METRICS_NAMESPACE", default_value = "monitoring")]
        metrics_namespace: String,
        /// The longest wait between two reconciles of one object, seconds (drift correction).
        #[arg(long, env = "SHEP_RESYNC_SECONDS", default_value_t = 300)]
        resync_seconds: u64,
        /// Log format: text or json.
        #[arg(long, env = "SHEP_LOG_FORMAT", default_value = "text")]
        log_format: String,
        /// Where /healthz, /readyz and /metrics are served.
        #[arg(long, env = "SHEP_HEALTH_ADDR", default_value = "127.0.0.1:8080")]
        health_addr: std::net::SocketAddr,
        /// Run without leader election (a single replica).
        #[arg(long)]
        no_leader_election: bool,
        /// Namespace of the leader-election Lease.
        #[arg(long, env = "POD_NAMESPACE", default_value = "shep-system")]
        lease_namespace: String,
        /// Name of the leader-election Lease.
        #[arg(long, default_value = "shep-operator")]
        lease_name: String,
        /// Seconds a lease lasts without renewal.
        #[arg(long, default_value_t = 15)]
        lease_seconds: u64,
        /// Reconcile only objects of these namespaces (comma-separated; default: all). References
        /// into other namespaces are still read.
        #[arg(long, env = "SHEP_WATCH_NAMESPACES", value_delimiter = ',')]
        watch_namespaces: Vec<String>,
        /// Reconciles in flight at once, per kind (the API server's capacity is the limit).
        #[arg(long, env = "SHEP_CONCURRENCY", default_value_t = 16)]
        concurrency: u16,
    },
    /// Run one route workload: the gateway's data plane for one service in one contour.
    Route {
        /// route.yaml (the ConfigMap S-C).
        #[arg(long, default_value = "/etc/shep/route/route.yaml")]
        config: PathBuf,
        /// senders.yaml (the Secret S-C-senders).
        #[arg(long, default_value = "/etc/shep/senders/senders.yaml")]
        senders: PathBuf,
        /// Listen address (default: the config's `listen`).
        #[arg(long, env = "SHEP_ROUTE_LISTEN")]
        listen: Option<std::net::SocketAddr>,
        /// Where the message journal goes: '-' (standard output) or a file to append to.
        #[arg(long, default_value = "-")]
        journal: String,
        /// The largest message (and backend answer) in bytes.
        #[arg(long, default_value_t = 10 * 1024 * 1024)]
        max_body_bytes: usize,
        /// Messages handled at once; more wait up to --queue-millis, then get SERVER_BUSY.
        #[arg(long, default_value_t = 1024)]
        max_in_flight: usize,
        /// How long a message waits for a free slot, milliseconds.
        #[arg(long, default_value_t = 2000)]
        queue_millis: u64,
        /// Connections open at once (more wait in the listen backlog).
        #[arg(long, default_value_t = 4096)]
        max_connections: usize,
        /// Seconds to send the request head; also the idle time of a kept-alive connection.
        #[arg(long, default_value_t = 20)]
        header_timeout_seconds: u64,
        /// Seconds to send the body.
        #[arg(long, default_value_t = 30)]
        body_timeout_seconds: u64,
        /// How often the mounted files are checked for changes, milliseconds.
        #[arg(long, default_value_t = 2000)]
        reload_millis: u64,
        /// Seconds shutdown waits for messages in flight (default: the SLA's maximum + 1).
        #[arg(long)]
        drain_seconds: Option<u64>,
        /// Worker threads (default: one per core).
        #[arg(long, env = "SHEP_ROUTE_WORKERS")]
        workers: Option<usize>,
        /// Log format: text or json.
        #[arg(long, env = "SHEP_LOG_FORMAT", default_value = "text")]
        log_format: String,
    },
    /// Working-day arithmetic with the Kazakhstan calendar.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Journal tools.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print the N-th working day after DATE (DATE not counted).
    AddWorkingDays {
        /// Start date, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Number of working days.
        #[arg(long)]
        days: u32,
        /// Calendar file.
        #[arg(long)]
        calendar: Option<PathBuf>,
    },
    /// Print true or false.
    IsWorkingDay {
        /// The date, YYYY-MM-DD.
        date: String,
        /// Calendar file.
        #[arg(long)]
        calendar: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Exit 0 if every journal chain in the resources is intact; otherwise name the first broken entry.
    Verify {
        /// File with resources (YAML or JSON); '-' or absent reads standard input.
        #[arg(short = 'f', long = "filename")]
        file: Option<String>,
    },
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Crds => {
            print!("{}", commands::crds()?);
            Ok(())
        }
        Command::Render {
            paths,
            now,
            calendar,
            route_image,
            metrics_namespace,
            output,
            show_secrets,
        } => {
            let now = match now {
                Some(s) => s.parse().map_err(|e| {
                    Failure::usage(format!("--now: '{s}' is not an RFC 3339 time ({e})"))
                })?,
                None => jiff::Timestamp::now(),
            };
            let mut settings = RenderSettings {
                metrics_namespace,
                ..Default::default()
            };
            if let Some(i) = route_image {
                settings.route_image = i;
            }
            let args = render::RenderArgs {
                paths,
                now,
                calendar: commands::load_calendar(calendar.as_deref())?,
                settings,
                show_secrets,
                output,
            };
            let r = render::run(&args)?;
            print!("{}", r.stdout);
            for p in &r.problems {
                eprintln!("{p}");
            }
            if r.problems.iter().any(|p| p.starts_with("error:")) {
                return Err(Failure {
                    message: "some manifests were refused (see above); the others were rendered"
                        .into(),
                    code: 1,
                });
            }
            Ok(())
        }
        Command::Operator {
            calendar,
            route_image,
            metrics_namespace,
            resync_seconds,
            log_format,
            health_addr,
            no_leader_election,
            lease_namespace,
            lease_name,
            lease_seconds,
            watch_namespaces,
            concurrency,
        } => {
            init_logging(&log_format);
            let mut settings = RenderSettings {
                metrics_namespace,
                ..Default::default()
            };
            if let Some(i) = route_image {
                settings.route_image = i;
            }
            let instance = std::env::var("POD_NAME")
                .ok()
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| "shep".into());
            let identity = format!("{instance}-{}", std::process::id());
            let lease_seconds = lease_seconds.clamp(5, 300);
            let opts = shep_operator::controller::Options {
                calendar: commands::load_calendar(calendar.as_deref())?,
                settings,
                resync: std::time::Duration::from_secs(resync_seconds.max(5)),
                instance: Some(identity.clone()),
                lease: (!no_leader_election).then(|| {
                    shep_operator::controller::leader::LeaseConfig {
                        namespace: lease_namespace,
                        name: lease_name,
                        identity,
                        duration: std::time::Duration::from_secs(lease_seconds),
                        renew_every: std::time::Duration::from_secs((lease_seconds / 3).max(1)),
                    }
                }),
                health_addr: Some(health_addr),
                namespaces: {
                    let n: std::collections::BTreeSet<String> = watch_namespaces
                        .into_iter()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    (!n.is_empty()).then_some(n)
                },
                concurrency: concurrency.max(1),
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))?;
            rt.block_on(async {
                let client = kube::Client::try_default().await.map_err(|e| Failure {
                    message: format!("cannot reach the cluster (kubeconfig or in-cluster): {e}"),
                    code: 1,
                })?;
                shep_operator::controller::run(client, opts)
                    .await
                    .map_err(|e| Failure {
                        message: format!("operator stopped: {e}"),
                        code: 1,
                    })
            })
        }
        Command::Route {
            config,
            senders,
            listen,
            journal,
            max_body_bytes,
            max_in_flight,
            queue_millis,
            max_connections,
            header_timeout_seconds,
            body_timeout_seconds,
            reload_millis,
            drain_seconds,
            workers,
            log_format,
        } => {
            use shep_operator::route::{journal::Journal, server, state::Files};
            use std::time::Duration;
            init_logging(&log_format);
            let journal = if journal == "-" {
                Journal::stdout()
            } else {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&journal)
                    .map_err(|e| Failure::usage(format!("--journal {journal}: {e}")))?;
                Journal::new(Box::new(f))
            };
            let opts = server::Options {
                files: Files { config, senders },
                listen,
                limits: server::Limits {
                    max_body: max_body_bytes.max(1024),
                    max_in_flight: max_in_flight.max(1),
                    queue_timeout: Duration::from_millis(queue_millis),
                    max_connections: max_connections.max(1),
                    header_timeout: Duration::from_secs(header_timeout_seconds.max(1)),
                    body_timeout: Duration::from_secs(body_timeout_seconds.max(1)),
                    reload_interval: Duration::from_millis(reload_millis.max(100)),
                    drain_timeout: drain_seconds.map(Duration::from_secs),
                },
                journal,
            };
            let workers = workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            server::serve(opts, workers, shutdown_signal())
                .map_err(|message| Failure { message, code: 1 })
        }
        Command::Calendar { command } => {
            let out = match command {
                CalendarCommand::AddWorkingDays {
                    from,
                    days,
                    calendar,
                } => commands::calendar::add_working_days(
                    &commands::load_calendar(calendar.as_deref())?,
                    &from,
                    days,
                )?,
                CalendarCommand::IsWorkingDay { date, calendar } => {
                    commands::calendar::is_working_day(
                        &commands::load_calendar(calendar.as_deref())?,
                        &date,
                    )?
                }
            };
            println!("{out}");
            Ok(())
        }
        Command::Journal {
            command: JournalCommand::Verify { file },
        } => {
            let text = match file.as_deref() {
                None | Some("-") => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
                    s
                }
                Some(f) => std::fs::read_to_string(f)
                    .map_err(|e| Failure::usage(format!("-f {f}: {e}")))?,
            };
            let results = commands::journal::verify_text(&text)?;
            if results.is_empty() {
                return Err(Failure::usage(
                    "no journal found in the input (status.journal)",
                ));
            }
            let mut broken = false;
            for v in &results {
                match &v.result {
                    Ok(n) => println!("ok      {}: {n} entries", v.object),
                    Err(e) => {
                        broken = true;
                        println!("BROKEN  {}: {e}", v.object);
                    }
                }
            }
            if broken {
                return Err(Failure {
                    message: "journal verification failed".into(),
                    code: 1,
                });
            }
            Ok(())
        }
    }
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHEP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("shep: {}", f.message);
            ExitCode::from(u8::try_from(f.code).unwrap_or(1))
        }
    }
}
