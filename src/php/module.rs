//! The module `tiki_tokens`: MINIT (the INI entries) and the registration of what every other
//! file of the binding provides (each file registers its own classes and functions).

use super::exceptions::boundary;
use super::{classes, exceptions, functions, info, ini};
use ext_php_rs::prelude::*;

/// MINIT: registers the INI entries. Nothing else happens here (no pool: FPM forks after MINIT).
fn startup(_ty: i32, module_number: i32) -> i32 {
    boundary(
        || {
            ini::register(module_number);
            0
        },
        |_| -1,
    )
}

/// The module entry PHP loads.
#[php_module]
#[php(startup = startup)]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    let module = module
        .name("tiki_tokens")
        .version(env!("CARGO_PKG_VERSION"))
        .info_function(info::module_info);
    let module = exceptions::register(module);
    let module = classes::register(module);
    functions::register(module)
}
