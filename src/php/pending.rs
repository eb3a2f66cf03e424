//! TEMPORARY: the store methods agreed with the store helper, which land on main soon. Inherent
//! methods win over trait methods, so once they land this trait is unused: delete this file.
#![allow(dead_code, clippy::unused_self)]

use crate::error::Result;
use crate::store::{MigrationReport, SchemeInfo, Store, TokenRow};

pub trait PendingStoreApi {
    fn get(&self, token: &[u8]) -> Result<Option<TokenRow>>;
    fn list(&self) -> Result<Vec<TokenRow>>;
    fn delete(&self, token_id: i64) -> Result<Option<String>>;
    fn purge(&self, limit: u32) -> Result<Vec<String>>;
    fn revoke_all(&self) -> Result<Vec<String>>;
    fn rotate_secret(&self, revoke: bool) -> Result<Vec<String>>;
    fn migrate(&self) -> Result<MigrationReport>;
    fn scheme_info(&self) -> Result<SchemeInfo>;
    fn connection_state(&self) -> String;
}

impl PendingStoreApi for Store {
    fn get(&self, _: &[u8]) -> Result<Option<TokenRow>> {
        todo!()
    }
    fn list(&self) -> Result<Vec<TokenRow>> {
        todo!()
    }
    fn delete(&self, _: i64) -> Result<Option<String>> {
        todo!()
    }
    fn purge(&self, _: u32) -> Result<Vec<String>> {
        todo!()
    }
    fn revoke_all(&self) -> Result<Vec<String>> {
        todo!()
    }
    fn rotate_secret(&self, _: bool) -> Result<Vec<String>> {
        todo!()
    }
    fn migrate(&self) -> Result<MigrationReport> {
        todo!()
    }
    fn scheme_info(&self) -> Result<SchemeInfo> {
        todo!()
    }
    fn connection_state(&self) -> String {
        todo!()
    }
}
