//! The command line (clap): global options, the subcommands and their arguments.

use super::exit::EXIT_CODES;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The admin command of tiki-tokens: Tiki's token access (TOKEN=… in a URL) on the table
/// tiki_auth_tokens, from the shell.
///
/// The database: --dsn, or --tiki DIR (its db/local.php); else the environment variable
/// TIKI_TOKENS_DSN; else PHP's INI setting tiki_tokens.dsn, as `php` reads it (TIKI_TOKENS_PHP
/// names another PHP binary). Passwords and the signing secret are never printed.
#[derive(Debug, Parser)]
#[command(
    name = "tiki-tokens",
    version,
    after_help = EXIT_CODES,
    arg_required_else_help = true
)]
pub struct Cli {
    /// The database, mysql://user:pass@host:port/db (or …@localhost/db?socket=/path)
    #[arg(
        long,
        global = true,
        value_name = "DSN",
        conflicts_with = "tiki",
        help_heading = "Global options"
    )]
    pub dsn: Option<String>,
    /// A Tiki site's root directory: use the database of its db/local.php
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub tiki: Option<PathBuf>,
    /// Print JSON on stdout (errors too), for scripts
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mint a token for a URL; prints the URL with TOKEN=… appended
    Mint(MintArgs),
    /// List every token, oldest first
    List,
    /// Show one token, by its id or its value
    Show {
        /// A tokenId, or a token value (32 or 64 hex characters)
        #[arg(value_name = "TOKEN|ID")]
        token_or_id: String,
    },
    /// Delete tokens by id, or every token (--all)
    Revoke {
        /// tokenIds to delete (all must exist, else nothing is deleted)
        #[arg(
            value_name = "ID",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        ids: Vec<i64>,
        /// Delete every token
        #[arg(long)]
        all: bool,
    },
    /// Remove the tokens that are expired or used up, in batches of 1000
    Purge,
    /// Apply Tiki's migration to signed tokens (idempotent)
    Migrate,
    /// Store a new signing secret; revokes every token unless --keep-tokens (as Tiki's
    /// tokens:rotate-secret)
    RotateSecret {
        /// Keep the rows (signed tokens made so far stop verifying; legacy MD5 ones stay valid)
        #[arg(long)]
        keep_tokens: bool,
    },
    /// Check the installation: database, table, index, scheme, purge, clock, Galera, PHP
    Doctor {
        /// Exit with 1 on warnings too, not only on problems
        #[arg(long)]
        strict: bool,
    },
    /// Show which database would be used and where that comes from (connects to nothing)
    Config,
}

/// `mint`'s arguments.
#[derive(Debug, Args)]
pub struct MintArgs {
    /// The URL the token opens, e.g. https://site/tiki/tiki-index.php?page=Home
    pub url: String,
    /// A group the token grants (repeat for several)
    #[arg(short, long = "group", value_name = "GROUP", required = true)]
    pub groups: Vec<String>,
    /// Uses (-1 = unlimited; default and cap: --max-hits)
    #[arg(long, allow_negative_numbers = true)]
    pub hits: Option<i64>,
    /// Seconds until it expires (-1 = never; default and cap: --max-timeout)
    #[arg(long, allow_negative_numbers = true, value_name = "SECONDS")]
    pub timeout: Option<i64>,
    /// Whom the token is for (Tiki's email column)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub email: String,
    /// Log the visitor in as a temporary user
    #[arg(long)]
    pub create_user: bool,
    /// Prefix of the temporary user's name (default _token)
    #[arg(long, value_name = "PREFIX")]
    pub user_prefix: Option<String>,
    /// Cap on hits (Tiki's pref auth_token_access_maxhits)
    #[arg(long, default_value_t = tiki_tokens::store::DEFAULT_MAX_HITS)]
    pub max_hits: i64,
    /// Cap on the timeout in seconds (Tiki's pref auth_token_access_maxtimeout)
    #[arg(long, default_value_t = tiki_tokens::store::DEFAULT_MAX_TIMEOUT)]
    pub max_timeout: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
