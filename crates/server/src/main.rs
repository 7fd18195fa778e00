//! `kakehashi`: the server binary.

use std::process::ExitCode;

use kakehashi::config::{Config, Flags};

const USAGE: &str = "usage: kakehashi serve [--demo] [--config FILE] [--listen ADDR] [--data DIR]\n       kakehashi phone --config FILE   (the phone bridge alone, against a server elsewhere)";

fn parse(args: &[String]) -> Result<Flags, String> {
    let mut flags = Flags::default();
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("serve") => {}
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("a command is needed".into()),
    }
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--demo" => flags.demo = true,
            "--config" => flags.config = Some(value("--config")?.into()),
            "--listen" => flags.listen = Some(value("--listen")?),
            "--data" => flags.data = Some(value("--data")?.into()),
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    Ok(flags)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        eprintln!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("phone") {
        return phone(&args[1..]).await;
    }
    let flags = match parse(&args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("kakehashi: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::load(&flags, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kakehashi: {e}");
            return ExitCode::from(2);
        }
    };
    logs();
    match kakehashi::serve::serve(config, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kakehashi: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `KAKEHASHI_LOG` (`info` unless set). The WebRTC stack's own
/// log (`rtc`, `rtc_dtls`, … through `log`) says only its errors unless the filter names it:
/// its warnings come per packet (a duplicate SRTP packet, say) and may carry addresses.
fn logs() {
    let spec = std::env::var("KAKEHASHI_LOG").unwrap_or_else(|_| "info".into());
    let spec = if spec.contains("rtc") { spec } else { format!("{spec},rtc=error") };
    let filter = tracing_subscriber::EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("kakehashi: KAKEHASHI_LOG={spec}: {e}; logging at info");
        "info,rtc=error".into()
    });
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// `kakehashi phone --config FILE`.
async fn phone(args: &[String]) -> ExitCode {
    let path = match args {
        [flag, path] if flag == "--config" => std::path::PathBuf::from(path),
        _ => {
            eprintln!("kakehashi: phone needs --config FILE\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match kakehashi::config::AloneConfig::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kakehashi: {e}");
            return ExitCode::from(2);
        }
    };
    logs();
    match kakehashi::phone::alone(config, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kakehashi: {e}");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
