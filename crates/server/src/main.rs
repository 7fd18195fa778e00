//! `kakehashi`: the server binary. The HTTP and WebSocket shell that `serve` runs is
//! being built (issue 3); today the binary checks its configuration and opens its store.

use std::process::ExitCode;

use kakehashi::config::{Config, Flags};

const USAGE: &str = "usage: kakehashi serve [--demo] [--config FILE] [--listen ADDR] [--data DIR]";

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
    if let Err(e) = kakehashi::store::Store::open(&config.data_dir).await {
        eprintln!("kakehashi: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("kakehashi: configuration and store are ready; the HTTP/WebSocket server is not built yet (issue 3)");
    ExitCode::FAILURE
}
