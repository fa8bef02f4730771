//! The harness of the data-plane tests: a real provider process (tests/route/provider.py, the
//! provider side of SendMessage written with Python's standard library), real `shep route`
//! processes in front of it, and a minimal HTTP/1.1 client over a TCP socket, so that the tests
//! control every byte (slow clients, oversized and hostile bodies). Everything is on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ROOT;

/// A free port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The provider process.
pub struct Provider {
    child: Child,
    /// Its port.
    pub port: u16,
    /// One JSON line per request it received.
    pub log: PathBuf,
}

impl Provider {
    /// Starts the provider; its request log goes to `dir/provider.log`.
    pub fn start(dir: &Path) -> Provider {
        let log = dir.join("provider.log");
        let mut child = Command::new("python3")
            .arg(format!("{ROOT}/tests/route/provider.py"))
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 tests/route/provider.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("provider said {line:?}"));
        Provider { child, port, log }
    }

    /// The base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What it received.
    pub fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sender of the senders file: its login and password.
pub struct Login {
    /// senderId.
    pub sender_id: String,
    /// The password.
    pub password: String,
    /// namespace/name of its connection.
    pub connection: String,
}

impl Login {
    /// A login with a password derived from its name.
    pub fn new(sender_id: &str) -> Login {
        Login {
            sender_id: sender_id.into(),
            password: format!("pw-{}-Zq81VtY3", sender_id.replace('.', "")),
            connection: sender_id.replacen('.', "/", 1),
        }
    }
}

/// A senders.yaml with these logins active, and `inactive` (sender id, reason) entries.
pub fn senders_yaml(active: &[&Login], inactive: &[(&str, &str)]) -> String {
    let mut s = String::from(if active.is_empty() {
        "senders: []\n"
    } else {
        "senders:\n"
    });
    for l in active {
        s.push_str(&format!(
            "- senderId: {}\n  passwordSha256: {}\n  connection: {}\n",
            l.sender_id,
            hex::encode(Sha256::digest(l.password.as_bytes())),
            l.connection
        ));
    }
    if !inactive.is_empty() {
        s.push_str("inactive:\n");
        for (id, reason) in inactive {
            s.push_str(&format!(
                "- senderId: {id}\n  connection: {}\n  reason: \"{reason}\"\n",
                id.replacen('.', "/", 1)
            ));
        }
    }
    s
}

/// A route.yaml for service key `key` with the backend `url`.
pub fn route_yaml(key: &str, protocol: &str, url: &str, timeout: u32, windows: &str) -> String {
    format!(
        "serviceKey: {key}\nservice: minjust/legal-entity-info\ncontour: production\nmode: Sync\nprotocol: {protocol}\nbackend:\n  url: {url}\n  timeoutSeconds: {timeout}\nsla:\n  maxProcessingSeconds: {timeout}\n  averageProcessingSeconds: 1\n  peakPerHour: 2000\n  nominalPerHour: 360\n  recoveryHours: 3\nwindows: {windows}\nlisten: 0.0.0.0:8080\n"
    )
}

/// A running `shep route`.
pub struct RouteProc {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its folder: route.yaml, senders.yaml, journal.log, route.log.
    pub dir: PathBuf,
}

impl RouteProc {
    /// Writes the files into `dir` and starts the route with `extra` arguments; waits until it
    /// listens (ready or not).
    pub fn start(dir: &Path, config: &str, senders: &str, extra: &[&str]) -> RouteProc {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("route.yaml"), config).unwrap();
        std::fs::write(dir.join("senders.yaml"), senders).unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("route.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_shep"))
            .arg("route")
            .arg("--config")
            .arg(dir.join("route.yaml"))
            .arg("--senders")
            .arg(dir.join("senders.yaml"))
            .arg("--journal")
            .arg(dir.join("journal.log"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--reload-millis",
                "200",
            ])
            .args(extra)
            .env("SHEP_LOG_FORMAT", "json")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("shep route");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let r = RouteProc {
            child: Some(child),
            addr,
            dir: dir.to_path_buf(),
        };
        let t = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "route did not listen: {}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        r
    }

    /// Waits until `/readyz` answers `want`.
    pub fn wait_ready(&self, want: u16) {
        let t = Instant::now();
        loop {
            if get(self.addr, "/readyz").status == want {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "readyz never {want}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Replaces senders.yaml the way Kubernetes updates a mounted Secret: a new file renamed over.
    pub fn write_senders(&self, text: &str) {
        replace(&self.dir.join("senders.yaml"), text);
    }

    /// Replaces route.yaml.
    pub fn write_config(&self, text: &str) {
        replace(&self.dir.join("route.yaml"), text);
    }

    /// The journal's lines.
    pub fn journal(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("journal.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// The journal line of a gateway message id (waits briefly: lines are written by a thread).
    pub fn journal_of(&self, gateway_id: &str) -> Value {
        let t = Instant::now();
        loop {
            if let Some(v) = self
                .journal()
                .into_iter()
                .find(|v| v["gatewayMessageId"] == gateway_id)
            {
                return v;
            }
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "no journal line for {gateway_id}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("route.log")).unwrap_or_default()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
    }

    /// Waits for the process to end, returning its exit code.
    pub fn wait(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let t = Instant::now();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s.code();
            }
            if t.elapsed() > Duration::from_secs(30) {
                let _ = c.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RouteProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of the first element with this local name.
    pub fn xml(&self, local: &str) -> Option<String> {
        xml_text(&self.body, local)
    }
}

/// The text of the first element `<local>` or `<p:local>` in `doc` (enough for the tests).
pub fn xml_text(doc: &str, local: &str) -> Option<String> {
    let mut rest = doc;
    loop {
        let i = rest.find('<')?;
        rest = &rest[i + 1..];
        let end = rest.find(['>', ' ', '/'])?;
        let name = &rest[..end];
        let name = name.rsplit(':').next().unwrap_or(name);
        if name == local && rest[end..].starts_with('>') {
            let body = &rest[end + 1..];
            let close = body.find("</")?;
            return Some(
                body[..close]
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            );
        }
    }
}

/// Sends one request on a new connection (`Connection: close`) and reads the whole answer.
pub fn request(addr: SocketAddr, method: &str, path: &str, ctype: &str, body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // A refusal may come before the whole body is written (too large): ignore a broken pipe.
    let _ = s.write_all(body);
    read_answer(&mut s)
}

/// Reads an HTTP/1.1 answer until the connection closes.
pub fn read_answer(s: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// GET a path.
pub fn get(addr: SocketAddr, path: &str) -> Answer {
    match TcpStream::connect(addr) {
        Ok(mut s) => {
            let _ = s.write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
            read_answer(&mut s)
        }
        Err(_) => Answer {
            status: 0,
            headers: vec![],
            body: String::new(),
        },
    }
}

/// A SendMessage envelope as clients in the field write it (WIRE.md), with `command` for the
/// provider in the payload.
pub fn envelope(service: &str, login: &Login, command: &str) -> String {
    envelope_with(service, &login.sender_id, &login.password, command)
}

/// A SendMessage envelope with any sender and password.
pub fn envelope_with(service: &str, sender: &str, password: &str, command: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v10="http://bip.bee.kz/SyncChannel/v10/Types"><soapenv:Header/><soapenv:Body><v10:SendMessage><request><requestInfo><messageId>6f1c1d2e-aaaa-4a4a-9b9b-{n:012}</messageId><correlationId>chain-1</correlationId><serviceId>{service}</serviceId><messageDate>2026-12-03T12:00:00.000+05:00</messageDate><sender><senderId>{sender}</senderId><password>{password}</password></sender><properties><key>CONNECTOR_CLIENT</key><value>true</value></properties></requestInfo><requestData><data xmlns:ns="urn:gbd:legal-entity"><ns:bin>051140004354</ns:bin><command>{command}</command></data></requestData></request></v10:SendMessage></soapenv:Body></soapenv:Envelope>"#,
        n = std::process::id()
    )
}

/// POST a SendMessage to the sync channel.
pub fn send(addr: SocketAddr, body: &str) -> Answer {
    request(
        addr,
        "POST",
        "/bip-sync-wss-gost/",
        "text/xml; charset=utf-8",
        body.as_bytes(),
    )
}

/// A REST envelope (App.1).
pub fn rest_envelope(service: &str, login: &Login, command: &str) -> String {
    serde_json::json!({"request": {
        "requestInfo": {
            "messageId": "rest-1", "serviceId": service, "messageDate": "2026-12-03T12:00:00+05:00",
            "sender": {"senderId": login.sender_id, "password": login.password}
        },
        "requestData": {"data": {"bin": "051140004354", "command": command}}
    }})
    .to_string()
}
