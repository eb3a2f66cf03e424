//! The current request as PHP saw it → the core's [`RequestFacts`] (SPEC section 8).
//!
//! Read from the SAPI and PHP's own globals, not from `$_SERVER`, `$_COOKIE` or `$_POST`, which
//! scripts change (Tiki's perms.php unsets `$_POST['TOKEN']` before the check): the method and
//! query string as the SAPI gave them (`SG(request_info)`), the arrays PHP built at request
//! start-up (`PG(http_globals)`), and the effective settings (`PG(request_order)` — where unset
//! and empty differ, which `ini_get` cannot tell — `PG(variables_order)`,
//! `PG(max_input_vars)`, and `arg_separator.input` through the INI API: its field in PHP's
//! globals changed type in PHP 8.4). No decision is made here.

use super::convert::bytes_of;
use crate::request::{RequestFacts, cookies_reach_request, sapi_serves_http};
use ext_php_rs::types::ZendHashTable;
use ext_php_rs::zend::{ProcessGlobals, SapiGlobals, SapiModule};
use std::ffi::{CStr, c_char, c_int};

unsafe extern "C" {
    /// PHP's `INI_STR(name)` (`Zend/zend_ini.h`, the same signature in PHP 8.0 to 8.4): the
    /// setting's current value as a C string, null when there is no such setting.
    fn zend_ini_string_ex(
        name: *const c_char,
        name_length: usize,
        orig: c_int,
        exists: *mut bool,
    ) -> *mut c_char;
}

/// The INI setting PHP splits a query string on (`PG(arg_separator).input` holds the same).
const ARG_SEPARATOR_INPUT: &CStr = c"arg_separator.input";

/// The facts of the current request; `None` on the command line, which serves no request.
pub fn current() -> Option<RequestFacts> {
    let sapi = {
        let module = SapiModule::get();
        // SAFETY: the SAPI sets its name before the engine starts; null or a C string.
        unsafe { c_bytes(module.name) }.unwrap_or_default()
    };
    if !sapi_serves_http(&sapi) {
        return None;
    }
    let (method, query_string) = {
        let globals = SapiGlobals::get();
        let info = globals.request_info();
        // SAFETY: the SAPI keeps both for the whole request; each is null or a C string.
        unsafe { (c_bytes(info.request_method), c_bytes(info.query_string)) }
    };
    let globals = ProcessGlobals::get();
    // SAFETY: PHP's INI handlers keep these null or pointing to C strings for the life of the
    // request; `zend_ini_string_ex` only reads the INI table and returns null or the value.
    let (request_order, variables_order, arg_separators) = unsafe {
        (
            c_bytes(globals.request_order),
            c_bytes(globals.variables_order).unwrap_or_default(),
            c_bytes(zend_ini_string_ex(
                ARG_SEPARATOR_INPUT.as_ptr(),
                ARG_SEPARATOR_INPUT.count_bytes(),
                0,
                std::ptr::null_mut(),
            )),
        )
    };
    Some(RequestFacts {
        method: method.unwrap_or_default(),
        query_string: query_string.unwrap_or_default(),
        cookie_names: globals
            .http_cookie_vars()
            .map(top_level_names)
            .unwrap_or_default(),
        cookies_in_request: cookies_reach_request(request_order.as_deref(), &variables_order),
        max_input_vars: globals.max_input_vars,
        arg_separators: arg_separators.unwrap_or_else(|| b"&".to_vec()),
        post_token: globals
            .http_post_vars()
            .and_then(|post| post.get("TOKEN"))
            .and_then(|t| bytes_of(t.dereference()))
            .map(<[u8]>::to_vec),
    })
}

/// The bytes of a C string, `None` for a null pointer.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that outlives the call.
unsafe fn c_bytes(p: *const c_char) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated, per this function's contract.
    Some(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
}

/// The keys of an array as bytes (integer keys as their decimal text).
fn top_level_names(ht: &ZendHashTable) -> Vec<Vec<u8>> {
    let mut names = Vec::with_capacity(ht.len());
    let mut iter = ht.iter();
    while let Some((key, _)) = iter.next_zval() {
        match (key.long(), key.zend_str()) {
            (Some(n), _) => names.push(n.to_string().into_bytes()),
            (None, Some(s)) => names.push(s.as_bytes().to_vec()),
            (None, None) => {}
        }
    }
    names
}
