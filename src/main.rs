//! `keyfob`: the demo server (the default, so `cargo run --release` still serves it), the
//! local bridge's native-messaging host, and the CLI that agents use to reach it.
//! `build.rs` builds the extension into `dist/extension/` whenever this package builds.
// Tests may unwrap; the non-test build (also linted by `--all-targets`) may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod bridge;
mod cli;
mod demo;
mod error;

use clap::{Parser, Subcommand};
use cli::install::Target;
use error::KeyfobError;
use std::ffi::OsString;

#[derive(Debug, Parser)]
#[command(
    name = "keyfob",
    version,
    about = "Keyfob: the demo server, the local bridge, and the CLI for agents",
    long_about = "Keyfob: the demo server, the local bridge, and the CLI for agents.\n\n\
        With no command, serves the demo (same as `keyfob demo`). Exit codes: 0 success; \
        1 a user error or a 4xx; 2 the bridge cannot be reached; 3 a 5xx or a timeout."
)]
struct Cli {
    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the demo chat and its built-in model on 127.0.0.1 (the default command).
    Demo {
        /// Port (default: KEYFOB_DEMO_PORT, else 8787).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Run the native-messaging host (Chrome starts it; stdout is the protocol, so
    /// --json changes nothing).
    Bridge,
    /// Register the bridge with the browser (writes dev.keyfob.bridge.json).
    Install(Target),
    /// Remove the bridge's registration.
    Uninstall(Target),
    /// Ask the wallet for a client token; waits while you approve it in the browser.
    Login {
        /// How this client is named in the approval window and in `keyfob clients`.
        #[arg(long)]
        name: String,
        /// A provider to ask for (repeatable; default: openai, anthropic, gemini).
        #[arg(long = "provider", value_name = "P")]
        providers: Vec<String>,
    },
    /// Revoke this client's token and delete the stored copy.
    Logout,
    /// List the wallet's approved clients.
    Clients,
    /// Print the environment variables that point SDKs at the bridge (`>> .env`).
    Env {
        /// Only these providers (repeatable; default: every granted one).
        #[arg(long = "provider", value_name = "P")]
        providers: Vec<String>,
    },
    /// One cheap request end to end: the provider's model list through the bridge.
    Test {
        /// The provider (default: the first granted one).
        #[arg(long, value_name = "P")]
        provider: Option<String>,
    },
    /// Is the bridge running, is the wallet unlocked, what may this client use?
    Status,
}

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    // Chrome starts a native host as `keyfob chrome-extension://<id>/ [--parent-window=N]`.
    if let Some(caller) = args
        .get(1)
        .and_then(|a| a.to_str())
        .filter(|a| a.starts_with("chrome-extension://"))
    {
        std::process::exit(bridge::run(Some(caller)));
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => std::process::exit(usage_error(e, &args)),
    };
    let json = cli.json;
    let result = match cli.command.unwrap_or(Command::Demo { port: None }) {
        Command::Demo { port } => demo::run(port, json).map(|()| cli::exit::OK),
        Command::Bridge => Ok(bridge::run(None)),
        Command::Install(target) => cli::install::install(&target, json),
        Command::Uninstall(target) => cli::install::uninstall(&target, json),
        Command::Login { name, providers } => cli::account::login(&name, &providers, json),
        Command::Logout => cli::account::logout(json),
        Command::Clients => cli::account::clients(json),
        Command::Env { providers } => cli::env::env(&providers, json),
        Command::Test { provider } => cli::probe::test(provider.as_deref(), json),
        Command::Status => cli::probe::status(json),
    };
    let code = result.unwrap_or_else(|e| cli::exit::report(&e, json));
    std::process::exit(code);
}

/// Help and version exit 0; a bad command line is a user error (1), in JSON when asked.
fn usage_error(error: clap::Error, args: &[OsString]) -> i32 {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return cli::exit::OK;
    }
    let json = args.iter().any(|a| a == "--json");
    let message = error.render().to_string();
    let first_line = message.lines().next().unwrap_or("bad arguments");
    let error = KeyfobError::Usage(first_line.trim_start_matches("error: ").to_string());
    if !json {
        eprint!("{message}");
        return cli::exit::exit_code(&error);
    }
    cli::exit::report(&error, json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_arguments_means_the_demo_and_json_is_global() {
        let cli = Cli::try_parse_from(["keyfob"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["keyfob", "status", "--json"]).unwrap();
        assert!(cli.json && matches!(cli.command, Some(Command::Status)));
        let cli = Cli::try_parse_from([
            "keyfob",
            "env",
            "--provider",
            "openai",
            "--provider",
            "gemini",
        ])
        .unwrap();
        let Some(Command::Env { providers }) = cli.command else {
            panic!("not env")
        };
        assert_eq!(providers, ["openai", "gemini"]);
        assert!(
            Cli::try_parse_from(["keyfob", "login"]).is_err(),
            "--name is required"
        );
    }
}
