//! `tiki-tokens`, the admin command: mint, list, show, edit, revoke, purge, migrate, rotate the
//! secret, and a doctor, on Tiki's table `tiki_auth_tokens`, through the same core as the PHP
//! extension (only `tiki_tokens::store`'s public API). Built with `--features cli`.
//!
//! * `args`: the command line (clap).
//! * `config`: where the database is (`--dsn`, `--tiki DIR`, `TIKI_TOKENS_DSN`, PHP's INI).
//! * `commands`: the subcommands on tokens; `doctor` and `sapi`: the doctor.
//! * `output`: JSON and tables; `exit`: exit codes and failures.

mod args;
mod commands;
mod config;
mod doctor;
mod exit;
mod output;
mod sapi;

use args::{Cli, Command};
use clap::Parser;
use exit::{Exit, Failure};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit here with code 2 (clap's), --help and --version with 0.
    let cli = Cli::parse();
    match run(&cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(failure) => {
            output::print_failure(&failure, cli.json);
            ExitCode::from(failure.exit.code())
        }
    }
}

fn run(cli: &Cli) -> Result<Exit, Failure> {
    match &cli.command {
        Command::Mint(a) => commands::mint(cli, a),
        Command::List => commands::list(cli),
        Command::Show { token_or_id } => commands::show(cli, token_or_id),
        Command::Edit(a) => commands::edit(cli, a),
        Command::Revoke { ids, all } => commands::revoke(cli, ids, *all),
        Command::Purge => commands::purge(cli),
        Command::Migrate => commands::migrate(cli),
        Command::RotateSecret { keep_tokens } => commands::rotate_secret(cli, *keep_tokens),
        Command::Doctor { strict } => doctor::run(cli, *strict),
        Command::Config => commands::show_config(cli),
    }
}
