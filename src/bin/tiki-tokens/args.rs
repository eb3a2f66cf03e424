//! The command line (clap): global options, the subcommands and their arguments.

use super::exit::EXIT_CODES;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The admin command of tiki-tokens: Tiki's token access (TOKEN=… in a URL) on the table
/// tiki_auth_tokens, from the shell.
///
/// The database: --dsn, or --tiki DIR (its db/local.php, or db/NAME/local.php with --site NAME);
/// else the environment variable
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
    /// With --tiki, a virtual site of a MultiTiki: the database of its db/NAME/local.php (as
    /// Tiki's `console.php --site=NAME`; default: the environment variable TIKI_VIRTUAL)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        requires = "tiki",
        help_heading = "Global options"
    )]
    pub site: Option<String>,
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
    /// Change a token: hits, email and the like in place (the link stays); timeout, groups or URL
    /// by a re-issue (a new token and link; the old one stops working at once)
    Edit(EditArgs),
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
    /// How SEF URLs are resolved (site root, path form)
    #[command(flatten)]
    pub sef: SefArgs,
}

/// Where SEF URLs (`/tiki/HomePage`) are resolved as Tiki's route.php will resolve them.
#[derive(Debug, Args)]
pub struct SefArgs {
    /// The site's root path (Tiki's $tikiroot, e.g. /tiki/): a SEF URL below it is bound to what
    /// Tiki's router serves there; none: a URL's path is bound as it is
    #[arg(long, value_name = "PATH", env = "TIKI_TOKENS_TIKI_ROOT")]
    pub tiki_root: Option<String>,
    /// How the web server hands Tiki's route.php the path: raw (nginx, Apache with Tiki's
    /// .htaccess) or decoded (Apache with RewriteEngine on at server level)
    #[arg(long, value_name = "FORM", default_value = "raw", value_parser = ["raw", "decoded"])]
    pub path_form: String,
}

/// `edit`'s arguments: in place (hits, email, …) or a re-issue (timeout, groups, URL).
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The tokenId
    pub id: i64,
    /// Set the hits left (-1 = unlimited, 0 = used up)
    #[arg(long, allow_negative_numbers = true, conflicts_with = "add_hits")]
    pub hits: Option<i64>,
    /// Add hits (may be negative), atomically: an unlimited token stays unlimited
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub add_hits: Option<i64>,
    /// Set maxhits (display and statistics only)
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub max_hits: Option<i64>,
    /// Set whom the token is for
    #[arg(long)]
    pub email: Option<String>,
    /// Log the visitor in as a temporary user, or not
    #[arg(long, value_name = "BOOL")]
    pub create_user: Option<bool>,
    /// Set the prefix of the temporary user's name
    #[arg(long, value_name = "PREFIX")]
    pub user_prefix: Option<String>,
    /// Re-issue: seconds from now until it expires (-1 = never; capped by --max-timeout)
    #[arg(long, allow_negative_numbers = true, value_name = "SECONDS")]
    pub timeout: Option<i64>,
    /// Re-issue: the groups it grants (repeat for several; replaces them all)
    #[arg(short, long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Re-issue: the URL it opens
    #[arg(long)]
    pub url: Option<String>,
    /// Cap on the timeout of a re-issue in seconds
    #[arg(long, default_value_t = tiki_tokens::store::DEFAULT_MAX_TIMEOUT)]
    pub max_timeout: i64,
    /// How SEF URLs are resolved (site root, path form)
    #[command(flatten)]
    pub sef: SefArgs,
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
