//! Rust `Debug` (and `Display` of errors) never shows the DSN password nor the signing secret:
//! `StoreConfig`, `Store`, `Secret`, and the errors of a store whose DSN holds a password
//! (a closed port, a wrong password on the real test server).

use std::time::Duration;
use testkit::db;
use tiki_tokens::canon::Params;
use tiki_tokens::store::{Store, StoreConfig};
use tiki_tokens::token::Secret;

const PASSWORD: &str = "Rust-Pw-4417";
const SECRET: &str = "Rust-Secret-8852";

fn assert_hidden(what: &str, text: &str) {
    for s in [PASSWORD, SECRET] {
        assert!(!text.contains(s), "{what} shows {s:?}: {text}");
    }
}

/// The DSNs of every shape that can carry a password: user info, percent-encoded user info,
/// a `password=` option.
fn dsns(base: &str) -> Vec<String> {
    let sep = if base.contains('?') { '&' } else { '?' };
    vec![
        base.replacen("root@", &format!("root:{PASSWORD}@"), 1),
        base.replacen("root@", &format!("root:{PASSWORD}%40x@"), 1),
        format!("{base}{sep}password={PASSWORD}"),
    ]
}

#[test]
fn debug_of_config_store_and_secret_hides_both() {
    let secret = Secret::from_text(SECRET);
    assert_hidden("Debug of Secret", &format!("{secret:?} {secret:#?}"));
    assert_eq!(
        secret.expose(),
        SECRET.as_bytes(),
        "the secret is really inside"
    );
    for dsn in dsns(&db::server_dsn()) {
        assert!(dsn.contains(PASSWORD), "{dsn}");
        let mut cfg = StoreConfig::new(dsn.clone());
        cfg.secret = Some(secret.clone());
        let text = format!("{cfg:?} {cfg:#?}");
        assert_hidden("Debug of StoreConfig", &text);
        assert!(
            text.contains("***"),
            "the password is masked, not dropped: {text}"
        );
        let store = Store::new(cfg).expect("a DSN that parses");
        assert_hidden("Debug of Store", &format!("{store:?} {store:#?}"));
    }
}

#[test]
fn errors_of_a_password_dsn_hide_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let closed = format!("mysql://root@127.0.0.1:{port}/x?prefer_socket=false");
    let base = db::fresh_database("secrets_debug");
    let mut checked = 0;
    for dsn in dsns(&closed).into_iter().chain(dsns(&base)) {
        let mut cfg = StoreConfig::new(dsn);
        cfg.secret = Some(Secret::from_text(SECRET));
        cfg.connect_timeout = Duration::from_secs(1);
        cfg.io_timeout = Duration::from_secs(1);
        let store = Store::new(cfg).expect("a DSN that parses");
        let denial = store
            .lookup(&[b'a'; 64], b"tiki-index.php", &Params::new())
            .expect_err("no server or a wrong password: a denial");
        assert_hidden("Denial", &format!("{denial} {denial:?}"));
        let err = store.list().expect_err("no server or a wrong password");
        assert_hidden("Error", &format!("{err} {err:?}"));
        assert_hidden("Debug of Store after a failure", &format!("{store:?}"));
        assert_hidden("connection state", &store.connection_state());
        checked += 1;
    }
    // Bad DSNs that hold the password.
    for bad in [
        format!("mysql://root:{PASSWORD}@127.0.0.1:99999999/x"),
        format!("mysql://root:{PASSWORD}@127.0.0.1/"),
        format!("postgres://root:{PASSWORD}@127.0.0.1/x"),
        format!("mysql://root:{PASSWORD}@"),
        format!("mysql://root:{PASSWORD}@127.0.0.1/x?bogus=1"),
    ] {
        match Store::new(StoreConfig::new(bad.clone())) {
            Err(e) => assert_hidden("Config error", &format!("{e} {e:?}")),
            Ok(store) => {
                if let Err(e) = store.list() {
                    assert_hidden("Error of a bad DSN", &format!("{e} {e:?}"));
                }
                assert_hidden("Debug of Store", &format!("{store:?}"));
            }
        }
        checked += 1;
    }
    eprintln!("secrets_debug: {checked} stores checked");
}
