//! The data plane against real processes on loopback (issue: `shep route` speaks the real gateway
//! protocol): a provider process implementing the provider side of SendMessage, real `shep route`
//! processes in front of it, and raw HTTP clients, plus an independent SOAP client (zeep, from
//! PyPI) driven by the WSDL the route serves.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::ROOT;
use common::route::*;
use serde_json::Value;

const KEY: &str = "GBD_UL_LegalEntityInfo";

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(ROOT)
        .join("target/route-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A provider and a route in front of it, with `bank` active and `other` suspended.
fn setup(name: &str, timeout: u32, extra: &[&str]) -> (Provider, RouteProc, Login) {
    let d = dir(name);
    let p = Provider::start(&d);
    let bank = Login::new("altyn-bank.legal-entity-info");
    let r = RouteProc::start(
        &d.join("route"),
        &route_yaml(KEY, "Soap", &p.url("/gbd-ul/sync"), timeout, "[]"),
        &senders_yaml(
            &[&bank],
            &[(
                "kaspi.legal-entity-info",
                "suspended: SecurityProtocolRevoked",
            )],
        ),
        extra,
    );
    r.wait_ready(200);
    (p, r, bank)
}

fn fault_code(a: &Answer) -> String {
    a.xml("errorCode")
        .unwrap_or_else(|| panic!("no errorCode in {a:?}"))
}

#[test]
fn success_strips_the_password_stamps_the_session_and_journals() {
    let (p, r, bank) = setup("success", 5, &[]);
    let a = send(r.addr, &envelope(KEY, &bank, "echo"));
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.xml("code").as_deref(), Some("SCSS001"));
    let sid = a.xml("sessionId").unwrap();
    assert!(
        sid.len() == 38 && sid.starts_with('{') && sid.ends_with('}'),
        "sessionId in braces: {sid}"
    );
    let gid = a.header("x-shep-message-id").unwrap().to_string();
    // What the provider received: no password, the same session id, the gateway message id.
    let got = p.received();
    assert_eq!(got.len(), 1);
    let body = got[0]["body"].as_str().unwrap();
    assert!(
        !body.contains("<password>") && !body.contains(&bank.password),
        "{body}"
    );
    assert!(
        body.contains(&format!("<sessionId>{sid}</sessionId></requestInfo>")),
        "{body}"
    );
    assert!(
        body.contains("<ns:bin>051140004354</ns:bin>"),
        "payload intact: {body}"
    );
    assert_eq!(got[0]["messageIdHeader"], gid.as_str());
    assert_eq!(got[0]["soapAction"], "\"\"");
    assert_eq!(a.xml("passwordSeen").as_deref(), Some("false"));
    // The journal line: ids, sender, connection, outcome, sizes, digests; never the password.
    let j = r.journal_of(&gid);
    assert_eq!(j["outcome"], "SCSS001");
    assert_eq!(j["sessionId"], sid.as_str());
    assert_eq!(j["sender"], bank.sender_id.as_str());
    assert_eq!(j["connection"], "altyn-bank/legal-entity-info");
    assert_eq!(j["correlationId"], "chain-1");
    assert_eq!(j["serviceId"], KEY);
    assert_eq!(j["contour"], "production");
    assert_eq!(j["httpStatus"], 200);
    assert!(j["backendMs"].as_f64().unwrap() > 0.0);
    use sha2::Digest;
    assert_eq!(
        j["requestSha256"],
        hex::encode(sha2::Sha256::digest(body.as_bytes()))
    );
    let journal = std::fs::read_to_string(r.dir.join("journal.log")).unwrap();
    assert!(!journal.contains(&bank.password) && !r.log().contains(&bank.password));
    // Metrics count it under the sender.
    let m = get(r.addr, "/metrics").body;
    assert!(
        m.contains(&format!("shep_route_messages_total{{channel=\"soap-sync\",outcome=\"SCSS001\",sender=\"{}\"}} 1", bank.sender_id)),
        "{m}"
    );
    assert!(m.contains("shep_route_backend_duration_seconds_count 1"));
    // The /sync path is the same channel.
    let a = request(
        r.addr,
        "POST",
        "/sync",
        "text/xml",
        envelope(KEY, &bank, "echo").as_bytes(),
    );
    assert_eq!(a.xml("code").as_deref(), Some("SCSS001"));
}

#[test]
fn every_refusal_has_its_code_and_says_why() {
    let (_p, r, bank) = setup("faults", 1, &["--max-body-bytes", "65536"]);
    let cases: Vec<(String, u16, &str, &str)> = vec![
        (
            envelope("GBDFL_Person", &bank, "echo"),
            500,
            "UNKNOWN_SERVICE",
            "serves 'GBD_UL_LegalEntityInfo'",
        ),
        (
            envelope_with(KEY, &bank.sender_id, "wrong-password", "echo"),
            500,
            "AUTHENTICATION_FAILED",
            "p.53.2",
        ),
        (
            envelope_with(KEY, "nobody.here", &bank.password, "echo"),
            500,
            "AUTHENTICATION_FAILED",
            "nobody.here",
        ),
        (
            envelope_with(KEY, "kaspi.legal-entity-info", "x", "echo"),
            500,
            "SENDER_NOT_ACTIVE",
            "SecurityProtocolRevoked",
        ),
        (
            envelope(KEY, &bank, "echo").replace("<messageDate>", "<messageDate>x"),
            500,
            "MALFORMED_MESSAGE",
            "messageDate",
        ),
        (
            "<notsoap/>".into(),
            500,
            "MALFORMED_MESSAGE",
            "root element must be Envelope",
        ),
        (
            format!("<a>{}</a>", "x".repeat(70_000)),
            413,
            "MESSAGE_TOO_LARGE",
            "65536",
        ),
        (
            envelope(KEY, &bank, "sleep:3"),
            500,
            "BACKEND_TIMEOUT",
            "within 1 s",
        ),
        (
            envelope(KEY, &bank, "fault"),
            500,
            "BACKEND_FAULT",
            "GBD_PERSON_NOT_FOUND",
        ),
        (
            envelope(KEY, &bank, "http500"),
            500,
            "BACKEND_FAULT",
            "HTTP 500",
        ),
        (
            envelope(KEY, &bank, "garbage"),
            500,
            "BACKEND_FAULT",
            "not a SendMessageResponse",
        ),
    ];
    for (body, status, code, why) in cases {
        let a = send(r.addr, &body);
        assert_eq!(a.status, status, "{code}: {a:?}");
        assert_eq!(fault_code(&a), code, "{a:?}");
        let msg = a.xml("errorMessage").unwrap();
        let text = format!("{msg} {}", a.xml("faultstring").unwrap_or_default());
        assert!(
            text.contains(why) || a.body.contains(why),
            "{code}: want '{why}' in {msg}"
        );
        assert!(
            a.xml("errorDate").is_some_and(|d| d.contains("+05:00")),
            "{a:?}"
        );
        let gid = a.header("x-shep-message-id").unwrap();
        assert_eq!(
            a.xml("errorData").unwrap(),
            format!("gatewayMessageId={gid}")
        );
        assert_eq!(r.journal_of(gid)["outcome"], code);
    }
    // The backend's own error is relayed as subError.
    let a = send(r.addr, &envelope(KEY, &bank, "fault"));
    let sub = a.body.split("<subError>").nth(1).expect("subError");
    assert_eq!(
        xml_text(sub, "errorCode").as_deref(),
        Some("GBD_PERSON_NOT_FOUND")
    );
    assert_eq!(
        xml_text(sub, "errorMessage").as_deref(),
        Some("no person with this IIN")
    );
    // No route wrote a password into its journal or log.
    let journal = std::fs::read_to_string(r.dir.join("journal.log")).unwrap();
    assert!(!journal.contains(&bank.password) && !journal.contains("wrong-password"));
    assert!(!r.log().contains(&bank.password));

    // A backend that does not listen.
    let d = dir("unreachable");
    let closed = free_port();
    let r2 = RouteProc::start(
        &d,
        &route_yaml(KEY, "Soap", &format!("http://127.0.0.1:{closed}/"), 2, "[]"),
        &senders_yaml(&[&bank], &[]),
        &[],
    );
    r2.wait_ready(200);
    let a = send(r2.addr, &envelope(KEY, &bank, "echo"));
    assert_eq!(fault_code(&a), "BACKEND_UNREACHABLE", "{a:?}");
    assert_eq!(a.xml("faultcode").as_deref(), Some("soap:Server"));
}

#[test]
fn a_removed_sender_is_refused_after_reload_and_restored_after() {
    let (_p, r, bank) = setup("reload", 5, &[]);
    assert_eq!(send(r.addr, &envelope(KEY, &bank, "echo")).status, 200);
    // The operator removes the sender (its connection was suspended).
    r.write_senders(&senders_yaml(
        &[],
        &[(&bank.sender_id, "suspended: ContractExpired")],
    ));
    let t = Instant::now();
    loop {
        let a = send(r.addr, &envelope(KEY, &bank, "echo"));
        if a.status != 200 {
            assert_eq!(fault_code(&a), "SENDER_NOT_ACTIVE", "{a:?}");
            assert!(a.xml("errorMessage").unwrap().contains("ContractExpired"));
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the reload never took effect"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A broken senders file is refused; the last good one stays in use, and the route stays ready.
    r.write_senders("senders: [{senderId: x}]\n");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(get(r.addr, "/readyz").status, 200);
    assert!(
        get(r.addr, "/metrics")
            .body
            .contains("shep_route_config_reloads_total{file=\"senders.yaml\",result=\"error\"} 1")
    );
    assert_eq!(
        fault_code(&send(r.addr, &envelope(KEY, &bank, "echo"))),
        "SENDER_NOT_ACTIVE"
    );
    r.write_senders(&senders_yaml(&[&bank], &[]));
    let t = Instant::now();
    while send(r.addr, &envelope(KEY, &bank, "echo")).status != 200 {
        assert!(t.elapsed() < Duration::from_secs(10), "never restored");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_tech_window_refuses_during_and_allows_after() {
    let (p, r, bank) = setup("window", 5, &[]);
    let now = jiff::Timestamp::now();
    let end = now + jiff::SignedDuration::from_secs(3);
    let windows = format!(
        "\n- source: minjust/db-upgrade\n  kind: Planned\n  start: {}\n  end: {}\n  reason: Upgrade of the registry database\n",
        now - jiff::SignedDuration::from_secs(1),
        end
    );
    r.write_config(&route_yaml(
        KEY,
        "Soap",
        &p.url("/gbd-ul/sync"),
        5,
        &windows,
    ));
    let t = Instant::now();
    let a = loop {
        let a = send(r.addr, &envelope(KEY, &bank, "echo"));
        if a.status == 503 {
            break a;
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "the window was not picked up: {a:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(fault_code(&a), "MAINTENANCE_MODE");
    let msg = a.xml("errorMessage").unwrap();
    assert!(msg.contains("minjust/db-upgrade") && msg.contains("Upgrade of the registry database"));
    assert!(
        msg.contains(&format!("until {}", shep_operator::calendar::show(end))),
        "{msg}"
    );
    assert!(a.header("retry-after").is_some());
    assert!(
        get(r.addr, "/metrics")
            .body
            .contains("shep_route_windows_active 1")
    );
    let seen = p.received().len();
    // After the window the same message goes through.
    std::thread::sleep(
        end.duration_since(jiff::Timestamp::now()).unsigned_abs() + Duration::from_millis(100),
    );
    let a = send(r.addr, &envelope(KEY, &bank, "echo"));
    assert_eq!(a.xml("code").as_deref(), Some("SCSS001"), "{a:?}");
    assert_eq!(
        p.received().len(),
        seen + 1,
        "nothing reached the backend during the window"
    );
}

#[test]
fn the_rest_channel_has_the_same_checks_with_json_errors() {
    let d = dir("rest");
    let p = Provider::start(&d);
    let bank = Login::new("altyn-bank.legal-entity-info");
    let r = RouteProc::start(
        &d.join("route"),
        &route_yaml(KEY, "Rest", &p.url("/rest/gbd-ul"), 1, "[]"),
        &senders_yaml(&[&bank], &[]),
        &[],
    );
    r.wait_ready(200);
    let a = request(
        r.addr,
        "POST",
        "/rest",
        "application/json",
        rest_envelope(KEY, &bank, "echo").as_bytes(),
    );
    assert_eq!(a.status, 200, "{a:?}");
    let v: Value = serde_json::from_str(&a.body).unwrap();
    let sid = v["response"]["responseInfo"]["sessionId"].as_str().unwrap();
    assert!(sid.starts_with('{'));
    assert_eq!(v["response"]["responseData"]["data"]["sessionId"], sid);
    assert_eq!(v["response"]["responseData"]["data"]["passwordSeen"], false);
    assert_eq!(
        v["response"]["responseData"]["data"]["echo"]["bin"],
        "051140004354"
    );
    for (body, status, code) in [
        (
            rest_envelope("Other", &bank, "echo"),
            404,
            "UNKNOWN_SERVICE",
        ),
        (
            rest_envelope(KEY, &Login::new("x.y"), "echo"),
            401,
            "AUTHENTICATION_FAILED",
        ),
        ("{\"request\": 1}".to_string(), 400, "MALFORMED_MESSAGE"),
        (rest_envelope(KEY, &bank, "fault"), 502, "BACKEND_FAULT"),
        (rest_envelope(KEY, &bank, "sleep:3"), 504, "BACKEND_TIMEOUT"),
    ] {
        let a = request(r.addr, "POST", "/rest", "application/json", body.as_bytes());
        assert_eq!(a.status, status, "{code}: {a:?}");
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["error"]["errorCode"], code, "{v}");
        assert!(v["error"]["errorDate"].as_str().is_some());
    }
    let a = request(
        r.addr,
        "POST",
        "/rest",
        "application/json",
        rest_envelope(KEY, &bank, "fault").as_bytes(),
    );
    let v: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(v["error"]["subError"]["errorCode"], "GBD_PERSON_NOT_FOUND");
    // The SOAP channel is not served by a REST service's route.
    let a = send(r.addr, &envelope(KEY, &bank, "echo"));
    assert_eq!(a.status, 404);
    assert_eq!(fault_code(&a), "CHANNEL_NOT_SERVED");
    assert!(a.xml("errorMessage").unwrap().contains("/rest"));
}

#[test]
fn hostile_and_slow_clients_are_refused_while_others_are_served() {
    let (p, r, bank) = setup(
        "hostile",
        5,
        &[
            "--max-body-bytes",
            "100000",
            "--header-timeout-seconds",
            "2",
            "--body-timeout-seconds",
            "2",
        ],
    );
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>&lol9;</soapenv:Body></soapenv:Envelope>",
        (1..10)
            .map(|i| format!(
                "<!ENTITY lol{i} \"{}\">",
                format!(
                    "&lol{};",
                    if i == 1 {
                        String::new()
                    } else {
                        (i - 1).to_string()
                    }
                )
                .repeat(10)
            ))
            .collect::<String>()
    );
    let xxe = envelope(KEY, &bank, "echo")
        .replace(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
        )
        .replace("<command>echo</command>", "<command>&xxe;</command>");
    let undefined =
        envelope(KEY, &bank, "echo").replace("<command>echo</command>", "<command>&xxe;</command>");
    let deep = envelope(KEY, &bank, "echo").replace(
        "<command>echo</command>",
        &("<a>".repeat(300) + &"</a>".repeat(300)),
    );

    // Slow clients hold connections: one never finishes its head, one never finishes its body.
    let mut slow_head = TcpStream::connect(r.addr).unwrap();
    slow_head
        .write_all(b"POST /bip-sync-wss-gost/ HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut slow_body = TcpStream::connect(r.addr).unwrap();
    slow_body
        .write_all(b"POST /bip-sync-wss-gost/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n<soapenv:Envelope")
        .unwrap();

    for (name, body, code, why) in [
        (
            "billion laughs",
            laughs.as_str(),
            "MALFORMED_MESSAGE",
            "DOCTYPE",
        ),
        (
            "external entity",
            xxe.as_str(),
            "MALFORMED_MESSAGE",
            "DOCTYPE",
        ),
        (
            "undefined entity",
            undefined.as_str(),
            "MALFORMED_MESSAGE",
            "&xxe; is not defined",
        ),
        (
            "deep nesting",
            deep.as_str(),
            "MALFORMED_MESSAGE",
            "deeper than 256",
        ),
    ] {
        let a = send(r.addr, body);
        assert_eq!(fault_code(&a), code, "{name}: {a:?}");
        assert!(
            a.xml("errorMessage").unwrap().contains(why),
            "{name}: {a:?}"
        );
        // Others are served meanwhile.
        assert_eq!(
            send(r.addr, &envelope(KEY, &bank, "echo"))
                .xml("code")
                .as_deref(),
            Some("SCSS001"),
            "{name}"
        );
    }
    // Oversized: refused from Content-Length, and when streamed without one (chunked).
    let a = send(r.addr, &"x".repeat(200_000));
    assert_eq!(
        (a.status, fault_code(&a).as_str()),
        (413, "MESSAGE_TOO_LARGE")
    );
    let mut s = TcpStream::connect(r.addr).unwrap();
    s.write_all(b"POST /sync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").unwrap();
    for _ in 0..30 {
        if s.write_all(format!("{:x}\r\n{}\r\n", 10_000, "y".repeat(10_000)).as_bytes())
            .is_err()
        {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let a = read_answer(&mut s);
    assert_eq!(
        (a.status, fault_code(&a).as_str()),
        (413, "MESSAGE_TOO_LARGE"),
        "{a:?}"
    );

    // The slow body is refused after the body timeout; the slow head is cut off.
    let a = read_answer(&mut slow_body);
    assert_eq!(
        (a.status, fault_code(&a).as_str()),
        (408, "REQUEST_TIMEOUT"),
        "{a:?}"
    );
    slow_head
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 256];
    // Ok(0) is the connection closed; an error here is the read timeout: the route kept it open.
    let n = std::io::Read::read(&mut slow_head, &mut buf)
        .expect("the slow head's connection was kept open");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(
        n == 0 || answer.starts_with("HTTP/1.1 408"),
        "the slow head was not cut off: {answer}"
    );
    // Nothing hostile reached the backend; the route is still healthy.
    for got in p.received() {
        let b = got["body"].as_str().unwrap();
        assert!(!b.contains("DOCTYPE") && !b.contains("&xxe;"));
    }
    assert_eq!(get(r.addr, "/healthz").status, 200);
    assert_eq!(
        send(r.addr, &envelope(KEY, &bank, "echo"))
            .xml("code")
            .as_deref(),
        Some("SCSS001")
    );
}

#[test]
fn messages_beyond_the_in_flight_bound_are_refused_busy() {
    let (_p, r, bank) = setup(
        "busy",
        10,
        &["--max-in-flight", "1", "--queue-millis", "100"],
    );
    let addr = r.addr;
    let body = envelope(KEY, &bank, "sleep:1.5");
    let first = std::thread::spawn(move || send(addr, &body));
    std::thread::sleep(Duration::from_millis(300));
    let a = send(r.addr, &envelope(KEY, &bank, "echo"));
    assert_eq!(
        (a.status, fault_code(&a).as_str()),
        (503, "SERVER_BUSY"),
        "{a:?}"
    );
    assert_eq!(a.header("retry-after"), Some("1"));
    assert_eq!(
        first.join().unwrap().xml("code").as_deref(),
        Some("SCSS001")
    );
    assert_eq!(
        send(r.addr, &envelope(KEY, &bank, "echo"))
            .xml("code")
            .as_deref(),
        Some("SCSS001")
    );
}

#[test]
fn shutdown_drains_messages_in_flight() {
    let (_p, mut r, bank) = setup("drain", 10, &[]);
    let addr = r.addr;
    let body = envelope(KEY, &bank, "sleep:1.5");
    let inflight = std::thread::spawn(move || send(addr, &body));
    std::thread::sleep(Duration::from_millis(400));
    r.terminate();
    let a = inflight.join().unwrap();
    assert_eq!(
        a.xml("code").as_deref(),
        Some("SCSS001"),
        "the message in flight was dropped: {a:?}"
    );
    assert_eq!(r.wait(), Some(0), "{}", r.log());
    // Its journal line was written before the process ended.
    let gid = a.header("x-shep-message-id").unwrap();
    assert_eq!(r.journal_of(gid)["outcome"], "SCSS001");
    assert!(r.log().contains("route draining"));
}

#[test]
fn a_route_without_a_valid_config_is_not_ready_until_fixed() {
    let d = dir("not-ready");
    let p = Provider::start(&d);
    let bank = Login::new("altyn-bank.legal-entity-info");
    let r = RouteProc::start(
        &d.join("route"),
        "serviceKey: [\n",
        &senders_yaml(&[&bank], &[]),
        &[],
    );
    let ready = get(r.addr, "/readyz");
    assert_eq!(ready.status, 503);
    assert!(ready.body.contains("route.yaml"), "{ready:?}");
    let a = send(r.addr, &envelope(KEY, &bank, "echo"));
    assert_eq!(
        (a.status, fault_code(&a).as_str()),
        (503, "ROUTE_NOT_READY")
    );
    assert_eq!(get(r.addr, "/healthz").status, 200);
    r.write_config(&route_yaml(KEY, "Soap", &p.url("/gbd-ul/sync"), 5, "[]"));
    r.wait_ready(200);
    assert_eq!(
        send(r.addr, &envelope(KEY, &bank, "echo"))
            .xml("code")
            .as_deref(),
        Some("SCSS001")
    );
    assert!(
        get(r.addr, "/metrics")
            .body
            .contains("shep_route_config_valid 1")
    );
}

/// A Python virtual environment with zeep, made once under target/.
fn zeep_python() -> std::path::PathBuf {
    let venv = std::path::Path::new(ROOT).join("target/pyenv");
    let py = venv.join("bin/python3");
    let ok = |py: &std::path::Path| {
        Command::new(py)
            .args(["-c", "import zeep"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok(&py) {
        let s = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(s.success(), "python3 -m venv");
        let s = Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "zeep==4.3.2",
            ])
            .status()
            .unwrap();
        assert!(s.success(), "pip install zeep (from PyPI)");
    }
    py
}

#[test]
fn an_independent_soap_client_uses_the_served_wsdl() {
    let (p, r, bank) = setup("zeep", 5, &[]);
    let py = zeep_python();
    let out = Command::new(py)
        .arg(format!("{ROOT}/tests/route/zeep_client.py"))
        .arg(format!("http://{}/bip-sync-wss-gost/?wsdl", r.addr))
        .args([KEY, &bank.sender_id, &bank.password])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["status"], "SCSS001", "{v}");
    assert!(v["sessionId"].as_str().unwrap().starts_with('{'));
    assert_eq!(v["fault"]["errorCode"], "AUTHENTICATION_FAILED", "{v}");
    assert!(
        v["fault"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("p.53.2")
    );
    // zeep's own envelope reached the backend without the password.
    let got = p.received();
    assert_eq!(got.len(), 1, "only the authenticated call is forwarded");
    assert!(!got[0]["body"].as_str().unwrap().contains(&bank.password));
}

/// `shep render` of an example with the issued passwords shown: (route.yaml, senders.yaml) of a
/// route and the (senderId, password) of a credentials Secret.
fn rendered(
    example: &str,
    route: &str,
    credentials: &str,
) -> (String, String, Option<(String, String)>) {
    let out = Command::new(env!("CARGO_BIN_EXE_shep"))
        .args([
            "render",
            "-f",
            &format!("{ROOT}/examples/{example}"),
            "--now",
            "2026-12-03T12:00:00+05:00",
            "--show-secrets",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let find = |kind: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .cloned()
    };
    let secret = |d: &Value, k: &str| {
        use base64::Engine as _;
        let b = d["data"][k].as_str().unwrap();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
    };
    let cm = find("ConfigMap", route).unwrap();
    let senders = find("Secret", &format!("{route}-senders")).unwrap();
    let cred =
        find("Secret", credentials).map(|c| (secret(&c, "senderId"), secret(&c, "password")));
    (
        cm["data"]["route.yaml"].as_str().unwrap().to_string(),
        secret(&senders, "senders.yaml"),
        cred,
    )
}

#[test]
fn the_files_the_operator_renders_serve_the_credentials_it_issues() {
    let d = dir("rendered");
    let p = Provider::start(&d);
    let (config, senders, cred) = rendered(
        "02-bank-connected",
        "legal-entity-info-production",
        "legal-entity-info-production-credentials",
    );
    let (sender, password) = cred.expect("production credentials are issued");
    let key = config
        .lines()
        .find_map(|l| l.strip_prefix("serviceKey: "))
        .unwrap()
        .to_string();
    // The backend of the example is the ministry's; here it is the local provider.
    let url = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("url: "))
        .unwrap()
        .to_string();
    let config = config.replace(&url, &p.url("/ws/LegalEntityInfo"));
    let r = RouteProc::start(&d.join("route"), &config, &senders, &[]);
    r.wait_ready(200);
    let a = send(r.addr, &envelope_with(&key, &sender, &password, "echo"));
    assert_eq!(a.xml("code").as_deref(), Some("SCSS001"), "{a:?}");
    // The test contour's password is another one: refused in production.
    let (_, _, test) = rendered(
        "02-bank-connected",
        "legal-entity-info-test",
        "legal-entity-info-test-credentials",
    );
    let (_, test_password) = test.unwrap();
    assert_ne!(test_password, password);
    assert_eq!(
        fault_code(&send(
            r.addr,
            &envelope_with(&key, &sender, &test_password, "echo")
        )),
        "AUTHENTICATION_FAILED"
    );

    // After the p.65 revocation the same login is told why it is refused.
    let (config, senders, _) = rendered(
        "03-bank-protocol-revoked",
        "legal-entity-info-production",
        "-",
    );
    let url = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("url: "))
        .unwrap()
        .to_string();
    r.write_config(&config.replace(&url, &p.url("/ws/LegalEntityInfo")));
    r.write_senders(&senders);
    let t = Instant::now();
    let a = loop {
        let a = send(r.addr, &envelope_with(&key, &sender, &password, "echo"));
        if a.status != 200 {
            break a;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the revocation never reached the route"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(fault_code(&a), "SENDER_NOT_ACTIVE", "{a:?}");
    assert!(
        a.xml("errorMessage")
            .unwrap()
            .contains("SecurityProtocolRevoked"),
        "{a:?}"
    );
}
