//! Shared harness of the integration tests: real PHP (`php`), and (in `db`) a real MariaDB.
#![allow(dead_code)]

pub mod db;
pub mod ext;
pub mod php;
