//! What every test of the server shares: a seeded directory, the server on a free
//! loopback port (or the binary as a child process), typed clients of every role from the
//! client crate, and plain HTTP.

use std::path::PathBuf;
use std::time::Duration;

use kakehashi::auth::{Attempt, hash_password, hash_token};
use kakehashi::config::Config;
use kakehashi::directory::{InterpreterRow, RosterDoc};
use kakehashi::store::{AccountKind, Store, TwoFactorRule};
use kakehashi_client::{Desk, Interpreter, Resident, Role, Signal, Supervisor};
use kakehashi_protocol as p;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// How long a test waits for something the server should say at once.
pub const WAIT: Duration = Duration::from_secs(5);

/// How long a session lasts in the tests.
pub const TTL: Duration = Duration::from_secs(3600);

/// Wait for an event matching a pattern (others of the role's noise are skipped) and
/// evaluate to the expression: `expect!(desk, p::DeskEvent::Queued { request, .. } => *request)`.
#[macro_export]
macro_rules! expect {
    ($client:expr, $pattern:pat => $value:expr) => {
        $client
            .expect(
                #[allow(unused_variables)]
                |e| match e {
                    $pattern => Some($value),
                    _ => None,
                },
            )
            .await
    };
    ($client:expr, $pattern:pat) => {
        $crate::expect!($client, $pattern => ())
    };
}

/// A server on a free loopback port, with its store in a temporary directory.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// Credentials of the test directory: tenant 1 (two desks, interpreters 1-3 for
/// Vietnamese, 4 for Portuguese) and tenant 2 (one desk, interpreter 5 for Vietnamese).
pub struct Creds {
    pub desk_a1: String,
    pub desk_a2: String,
    pub desk_b: String,
    pub interp: Vec<String>,
    pub sup_a: String,
    pub sup_b: String,
    pub admin: String,
}

/// A staff interpreter of one language in one tenant, on duty all the time.
pub fn staff(login: &str, language: &str, tenant: i64) -> InterpreterRow {
    InterpreterRow {
        id: 0,
        login: login.into(),
        tier: "staff".into(),
        languages: vec![language.into()],
        modalities: vec!["video".into(), "audio".into()],
        specialities: vec![],
        tenants: vec![tenant],
        shared_pool: false,
        roster: RosterDoc { always: true, ..RosterDoc::default() },
        reach_by_phone: None,
    }
}

/// Sign in without the guard (seeding).
pub async fn sign_in(store: &Store, kind: AccountKind, login: &str, password: &str) -> String {
    let terms = kakehashi::auth::Terms { ttl: TTL, admins_two_factor: false };
    kakehashi::auth::sign_in(store, Attempt { kind, login, password, code: None }, terms).await.unwrap().token
}

pub async fn seed(dir: &std::path::Path) -> Creds {
    if crate::postgres_support::all_on_postgres() && crate::postgres_support::postgres_of(dir).is_none() {
        crate::postgres_support::use_postgres(dir).await;
    }
    let store = crate::postgres_support::open_store(dir).await;
    let a = store.insert_tenant("Asahi City", 20_000, "Asia/Tokyo").await.unwrap();
    let b = store.insert_tenant("Kita Town", 1_000, "Asia/Tokyo").await.unwrap();
    // Two-factor sign-in has tests of its own; here supervisors sign in with a password.
    for t in [a, b] {
        store.set_two_factor_rule(t, TwoFactorRule::Optional).await.unwrap();
    }
    let mut desks = Vec::new();
    for (tenant, code) in [(a, "CODEA1"), (a, "CODEA2"), (b, "CODEB1")] {
        store.insert_desk(tenant, "desk", &hash_token(code)).await.unwrap();
        desks.push(kakehashi::auth::enrol_desk(&store, code).await.unwrap().2);
    }
    let mut interp = Vec::new();
    for (login, lang, tenant) in [("i1", "vi", a), ("i2", "vi", a), ("i3", "vi", a), ("i4", "pt", a), ("i5", "vi", b)] {
        store
            .insert_interpreter(&staff(login, lang, tenant), &hash_password(&format!("pw-{login}")).unwrap())
            .await
            .unwrap();
        interp.push(sign_in(&store, AccountKind::Interpreter, login, &format!("pw-{login}")).await);
    }
    store.insert_staff("sup-a", "supervisor", Some(a), &hash_password("pw-sup-a").unwrap()).await.unwrap();
    store.insert_staff("sup-b", "supervisor", Some(b), &hash_password("pw-sup-b").unwrap()).await.unwrap();
    let sup_a = sign_in(&store, AccountKind::Staff, "sup-a", "pw-sup-a").await;
    let sup_b = sign_in(&store, AccountKind::Staff, "sup-b", "pw-sup-b").await;
    store.insert_staff("root", "admin", None, &hash_password("pw-root").unwrap()).await.unwrap();
    let admin = sign_in(&store, AccountKind::Staff, "root", "pw-root").await;
    Creds {
        desk_a1: desks[0].clone(),
        desk_a2: desks[1].clone(),
        desk_b: desks[2].clone(),
        interp,
        sup_a,
        sup_b,
        admin,
    }
}

pub fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kakehashi-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

impl Server {
    pub async fn start(dir: PathBuf) -> Server {
        Server::start_with(dir, |c| c).await
    }

    pub async fn start_with(dir: PathBuf, tweak: impl FnOnce(Config) -> Config) -> Server {
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("kakehashi=debug").try_init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = tweak(Config {
            listen: addr,
            data_dir: dir.clone(),
            database: crate::postgres_support::postgres_of(&dir),
            drain_secs: 2,
            media_listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            kakehashi::serve::serve_on(listener, config, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server { addr, dir, stop: Some(stop), task }
    }

    /// A server already running elsewhere (the binary as a child).
    pub fn at(addr: std::net::SocketAddr, dir: PathBuf) -> Server {
        Server { addr, dir, stop: None, task: tokio::spawn(async {}) }
    }

    pub async fn stop(mut self) -> PathBuf {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(15), &mut self.task).await.expect("server stops").unwrap();
        self.dir.clone()
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// A client of role `R`, welcomed.
    pub async fn connect<R: Role>(&self, credential: p::Credential, resume: Option<(String, u64)>) -> Client<R> {
        Client { sig: Signal::connect(&self.url(), credential, resume).await.expect("welcomed") }
    }

    /// A hello that is refused: the error, and the close frame after it.
    pub async fn refused<R: Role>(&self, credential: p::Credential, resume: Option<(String, u64)>) -> p::ProtocolError {
        match Signal::<R>::connect(&self.url(), credential, resume).await {
            Err(kakehashi_client::ClientError::Refused(e)) => e,
            Err(e) => panic!("expected a refusal, got {e}"),
            Ok(_) => panic!("expected a refusal, got a welcome"),
        }
    }

    pub async fn desk(&self, token: &str) -> Client<Desk> {
        self.connect(p::Credential::DeskToken(token.into()), None).await
    }

    /// An interpreter, signed in and available.
    pub async fn interpreter(&self, token: &str) -> Client<Interpreter> {
        let mut c: Client<Interpreter> = self.connect(p::Credential::Session(token.into()), None).await;
        let presence = c.next().await;
        assert_eq!(presence, p::InterpreterEvent::Presence { presence: p::PresenceState::Offline });
        c.send(p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await;
        expect!(c, p::InterpreterEvent::Presence { presence: p::PresenceState::Available });
        c
    }

    pub async fn supervisor(&self, token: &str) -> Client<Supervisor> {
        self.connect(p::Credential::Session(token.into()), None).await
    }

    /// Someone from a link (a resident or a guest), in the call.
    pub async fn resident(&self, token: &str, resume: Option<String>) -> Client<Resident> {
        self.connect(p::Credential::Invite(token.into()), resume.map(|r| (r, 0))).await
    }

    pub async fn records(&self, supervisor: &str) -> Vec<Value> {
        let body = http(self.addr, "GET", "/api/call-records", Some(supervisor), None).await;
        serde_json::from_str::<Vec<Value>>(&body.1).unwrap_or_else(|_| panic!("{body:?}"))
    }

    /// Whether a record with this outcome appears within 5 s (records are written just
    /// after the core decides).
    pub async fn eventually_record(&self, supervisor: &str, outcome: &str) -> bool {
        for _ in 0..50 {
            if self.records(supervisor).await.iter().any(|r| r["outcome"] == outcome) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    pub async fn metrics(&self) -> String {
        http(self.addr, "GET", "/metrics", None, None).await.1
    }
}

/// Events a role may get at any moment beside what a test waits for.
pub trait Noise: Role {
    fn noise(event: &Self::Event) -> bool;

    /// Events that come on their own schedule (the desk grid's availability): the next
    /// event a test reads skips them; `availability.rs` tests them.
    fn background(_: &Self::Event) -> bool {
        false
    }
}

impl Noise for Desk {
    fn noise(e: &p::DeskEvent) -> bool {
        matches!(e, p::DeskEvent::Position { .. } | p::DeskEvent::Availability { .. })
    }

    fn background(e: &p::DeskEvent) -> bool {
        matches!(e, p::DeskEvent::Availability { .. })
    }
}

impl Noise for Interpreter {
    /// A booked slot's reminder comes on its own schedule (15 minutes before, or at once
    /// for a slot sooner than that); `bookings.rs` and the core's tests look at it.
    fn noise(e: &p::InterpreterEvent) -> bool {
        matches!(
            e,
            p::InterpreterEvent::Presence { .. }
                | p::InterpreterEvent::OfferClosed { .. }
                | p::InterpreterEvent::BookingSoon { .. }
        )
    }
}

impl Noise for Resident {
    fn noise(_: &p::ResidentEvent) -> bool {
        false
    }
}

impl Noise for Supervisor {
    fn noise(_: &p::SupervisorEvent) -> bool {
        false
    }
}

impl Noise for kakehashi_client::Gateway {
    fn noise(_: &p::GatewayEvent) -> bool {
        false
    }
}

/// A typed client with the tests' expectations.
pub struct Client<R: Role> {
    pub sig: Signal<R>,
}

impl<R: Role + Noise> Client<R> {
    pub async fn send(&mut self, cmd: R::Command) {
        self.sig.send(&cmd).await.unwrap();
    }

    pub async fn send_text(&mut self, text: String) {
        self.sig.send_text(text).await.unwrap();
    }

    /// The next event, with its number.
    pub async fn next_seq(&mut self) -> p::Sequenced<R::Event> {
        loop {
            let e = self.sig.recv(WAIT).await.expect("an event within 5 s");
            if !R::background(&e.event) {
                return e;
            }
        }
    }

    /// The next event.
    pub async fn next(&mut self) -> R::Event {
        self.next_seq().await.event
    }

    /// Events until `pick` takes one; only the role's noise may come before it.
    pub async fn expect<T>(&mut self, pick: impl FnMut(&R::Event) -> Option<T>) -> T {
        self.expect_within(WAIT, pick).await
    }

    /// The same within `wait` (something due at a time ahead, such as a booked slot).
    pub async fn expect_within<T>(&mut self, wait: Duration, pick: impl FnMut(&R::Event) -> Option<T>) -> T {
        self.sig
            .expect(wait, pick, |e| assert!(R::noise(e), "unexpected {e:?}"))
            .await
            .unwrap_or_else(|e| panic!("waited in vain: {e}"))
    }

    /// The next error answer.
    pub async fn error(&mut self) -> p::ProtocolError {
        self.expect(|e| R::error(e).cloned()).await
    }

    /// The close frame the server ends the connection with (within 5 s), skipping what
    /// comes before it.
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        loop {
            match self.sig.recv(WAIT).await {
                Ok(_) => continue,
                Err(kakehashi_client::ClientError::Closed(frame)) => return frame,
                Err(e) => panic!("expected a close, got {e}"),
            }
        }
    }

    /// What a resume needs.
    pub fn resume_point(&self) -> (String, u64) {
        self.sig.resume_point()
    }
}

/// A desk asks for `language`, the interpreter accepts: the call's number.
pub async fn answered_call(desk: &mut Client<Desk>, interpreter: &mut Client<Interpreter>, language: &str) -> u64 {
    desk.send(request(language)).await;
    let call = expect!(desk, p::DeskEvent::Queued { request, .. } => *request);
    let offer = expect!(interpreter, p::InterpreterEvent::Offer { offer, .. } => *offer);
    interpreter.send(p::InterpreterCommand::Accept { offer }).await;
    assert_eq!(expect!(desk, p::DeskEvent::Assigned { call, .. } => *call), call);
    assert_eq!(expect!(interpreter, p::InterpreterEvent::Assigned { call, .. } => *call), call);
    call
}

/// A plain request for `language`.
/// The desk's one-tap outcome: resolved, nothing more said.
pub fn resolved(call: u64) -> p::DeskCommand {
    p::DeskCommand::RecordOutcome {
        call,
        outcome: p::OutcomeCategory::Resolved,
        topics: vec![],
        residence: None,
        referral: None,
        note: None,
    }
}

pub fn request(language: &str) -> p::DeskCommand {
    p::DeskCommand::RequestInterpreter {
        language: language.into(),
        modality: None,
        speciality: None,
        urgent: false,
        preferred_interpreter: None,
    }
}

/// The token of an invite link.
pub fn link_token(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

/// Invite someone of `party` to the desk's call: the link's token.
pub async fn invite(desk: &mut Client<Desk>, call: u64, party: p::Party) -> String {
    desk.send(p::DeskCommand::Invite { call, party }).await;
    link_token(&expect!(desk, p::DeskEvent::Invite { url, .. } => url.clone()))
}

/// A bare HTTP/1.1 request: (status, body).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    http_from(None, addr, method, path, bearer, body).await
}

/// The same from a given loopback address (`127.0.0.2`: another client).
pub async fn http_from(
    from: Option<&str>,
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = match from {
        None => TcpStream::connect(addr).await.unwrap(),
        Some(ip) => {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
            socket.connect(addr).await.unwrap()
        }
    };
    let auth = bearer.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    // A connection closed without an answer (a node starting or stopping): status 0, for
    // the polling helpers to ask again and the others to fail on.
    let Some(status) = out.get(9..12).and_then(|s| s.parse().ok()) else { return (0, out) };
    let body = out.split_once("\r\n\r\n").map(|x| x.1.to_string()).unwrap_or_default();
    // Chunked bodies: keep the JSON part.
    let body = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) if !path.starts_with("/metrics") && !path.ends_with("z") => body[a..=b].to_string(),
        _ => body,
    };
    (status, body)
}

/// An HTTP request's status, headers and body (for the web pages).
pub async fn http_full(addr: std::net::SocketAddr, path: &str, extra: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{extra}\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let out = String::from_utf8_lossy(&out).to_string();
    let status = out[9..12].parse().unwrap();
    let (head, body) = out.split_once("\r\n\r\n").map(|(h, b)| (h.to_ascii_lowercase(), b.to_string())).unwrap();
    (status, head, body)
}

/// `promtool check metrics` (Debian's prometheus package; ./scripts/test.sh installs it).
pub async fn promtool_accepts(metrics: &str) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (Debian package prometheus; ./scripts/test.sh installs it)");
    child.stdin.take().unwrap().write_all(metrics.as_bytes()).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && report.trim().is_empty(), "promtool check metrics: {report}");
}

/// The binary as a child process, killed without warning.
pub struct Child {
    pub process: tokio::process::Child,
    pub addr: std::net::SocketAddr,
}

pub async fn spawn_binary(dir: &std::path::Path) -> Child {
    spawn_binary_with(dir, &[]).await
}

/// `kakehashi serve` with `args` besides, once it listens (as a single node, or as a
/// cluster's node standing by).
pub async fn spawn_binary_with(dir: &std::path::Path, args: &[&str]) -> Child {
    use tokio::io::AsyncBufReadExt;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"));
    if let Some(url) = crate::postgres_support::postgres_of(dir) {
        command.env("KAKEHASHI_DATABASE", url);
    }
    let mut process = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .arg("--data")
        .arg(dir)
        .env("KAKEHASHI_LOG", "info")
        .env("KAKEHASHI_MEDIA_LISTEN", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(process.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    let addr = loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("the server did not listen within 20 s; it said:\n{}", said.join("\n")))
            .unwrap()
            .unwrap_or_else(|| panic!("the server starts; it said:\n{}", said.join("\n")));
        said.push(line.clone());
        let plain: String =
            // Colour codes (ESC [ ... m) out, the text before the first one kept whole.
            line.split('\x1b')
                .enumerate()
                .map(|(i, part)| if i == 0 { part } else { part.split_once('m').map_or(part, |(_, rest)| rest) })
                .collect();
        let listening = ["kakehashi listening addr=", "cluster node serving as an edge addr="];
        if let Some(rest) = listening.iter().find_map(|marker| plain.split(marker).nth(1)) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    // TEST_SERVER_ECHO=1 shows what the server says from here on (to debug a test).
    let echo = std::env::var_os("TEST_SERVER_ECHO").is_some();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if echo {
                eprintln!("[{addr}] {line}");
            }
        }
    });
    Child { process, addr }
}
