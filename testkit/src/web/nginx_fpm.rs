//! nginx in front of PHP-FPM: Debian's `nginx -p <dir>/ -c <dir>/nginx.conf` (`daemon off`, its
//! own pid file, logs and temporary paths) and `php-fpm8.2 -n -F -y <dir>/php-fpm.conf` (its own
//! pool, static workers, listening on a loopback port), each in a process group of its own.
//! FPM loads the extension with `-d extension=…`; settings are `php_admin_value[…]` and the
//! environment `env[…]` of the pool (FPM clears the environment). Nothing is read from /etc: the
//! FastCGI parameters are an own copy of Debian's `fastcgi.conf`.
//!
//! PHP is the usual `location ~ \.php$` block (`try_files $uri =404` first, as Debian's
//! `snippets/fastcgi-php.conf` does, so that a missing script is nginx's 404); the front
//! controller's rule is Tiki's: `location <base> { try_files $uri $uri/ <base>route.php?$args; }`.

use super::{Layout, Setup, Started, find_program, missing_program, write_file};
use crate::procs::{Group, free_port};
use std::process::Stdio;

/// Why nginx with PHP-FPM cannot run here, if it cannot.
pub(super) fn missing() -> Option<String> {
    if let Some(why) = missing_program("nginx") {
        return Some(format!("{why} (Debian package nginx)"));
    }
    missing_program("php-fpm8.2").map(|why| format!("{why} (Debian package php8.2-fpm)"))
}

/// Debian's `/etc/nginx/fastcgi.conf`, an own copy shared with the scripts.
const FASTCGI_PARAMS: &str = include_str!("../../../scripts/lib/fastcgi.conf");

/// The FPM configuration: one pool `test` on `fpm_port`.
fn fpm_conf(setup: &Setup, at: &Layout, fpm_port: u16) -> String {
    let dir = at.dir.display();
    let mut pool = format!(
        "; written by testkit/src/web/nginx_fpm.rs\n\
         [global]\n\
         pid = {dir}/php-fpm.pid\n\
         error_log = {dir}/php-fpm.log\n\
         daemonize = no\n\
         \n\
         [test]\n\
         listen = 127.0.0.1:{fpm_port}\n\
         pm = static\n\
         pm.max_children = {workers}\n\
         chdir = {dir}\n\
         clear_env = yes\n\
         catch_workers_output = yes\n",
        workers = setup.workers.max(1),
    );
    if is_root() {
        pool.push_str("user = root\ngroup = root\n");
    }
    for (name, value) in &setup.env {
        pool.push_str(&format!("env[{name}] = \"{value}\"\n"));
    }
    for (name, value) in &setup.ini {
        assert!(
            !value.contains('"'),
            "INI value with a double quote: {value}"
        );
        pool.push_str(&format!("php_admin_value[{name}] = \"{value}\"\n"));
    }
    pool
}

/// The nginx configuration: the PHP location, and the front controller's rule.
fn nginx_conf(setup: &Setup, at: &Layout, fpm_port: u16) -> String {
    let dir = at.dir.display();
    let front = setup.front_controller.as_ref().map_or(String::new(), |f| {
        format!(
            "    location {base} {{ try_files $uri $uri/ {base}route.php?$args; }}\n",
            base = f.base
        )
    });
    format!(
        "# written by testkit/src/web/nginx_fpm.rs\n\
         worker_processes {workers};\n\
         daemon off;\n\
         pid {dir}/nginx.pid;\n\
         error_log {dir}/nginx-error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n\
         \x20 access_log off;\n\
         \x20 client_body_temp_path {dir}/tmp/body;\n\
         \x20 fastcgi_temp_path {dir}/tmp/fastcgi;\n\
         \x20 proxy_temp_path {dir}/tmp/proxy;\n\
         \x20 uwsgi_temp_path {dir}/tmp/uwsgi;\n\
         \x20 scgi_temp_path {dir}/tmp/scgi;\n\
         \x20 server {{\n\
         \x20   listen 127.0.0.1:{port};\n\
         \x20   root {docroot};\n\
         \x20   index index.php;\n\
         {front}\
         \x20   location ~ \\.php$ {{\n\
         \x20     try_files $uri =404;\n\
         \x20     include {dir}/fastcgi.conf;\n\
         \x20     fastcgi_pass 127.0.0.1:{fpm_port};\n\
         \x20   }}\n\
         \x20 }}\n\
         }}\n",
        workers = setup.workers.clamp(1, 2),
        port = at.port,
        docroot = at.docroot.display(),
    )
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Starts PHP-FPM, waits for its port, then nginx (each in its own process group).
pub(super) fn start(setup: &Setup, at: &Layout) -> Started {
    std::fs::create_dir_all(at.dir.join("tmp")).expect("nginx temp directory");
    let fpm_port = free_port();
    write_file(&at.dir.join("php-fpm.conf"), &fpm_conf(setup, at, fpm_port));
    write_file(&at.dir.join("fastcgi.conf"), FASTCGI_PARAMS);
    write_file(&at.dir.join("nginx.conf"), &nginx_conf(setup, at, fpm_port));
    let fpm_out = at.dir.join("php-fpm.out");
    let mut fpm = crate::procs::command(find_program("php-fpm8.2"));
    fpm.arg("-n");
    if setup.extension {
        fpm.arg("-d").arg(crate::ext::extension_ini());
    }
    if is_root() {
        fpm.arg("-R");
    }
    fpm.arg("-F")
        .arg("-y")
        .arg(at.dir.join("php-fpm.conf"))
        .current_dir(at.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&fpm_out).expect("fpm output"));
    let mut fpm = Group::spawn(fpm, "php-fpm8.2");
    let logs = vec![
        fpm_out,
        at.dir.join("php-fpm.log"),
        at.dir.join("nginx.out"),
        at.dir.join("nginx-error.log"),
    ];
    let logs_now = logs.clone();
    crate::procs::wait_for_port(
        fpm_port,
        &mut fpm,
        std::time::Duration::from_secs(20),
        || super::read_logs(&logs_now),
    );
    let mut nginx = crate::procs::command(find_program("nginx"));
    nginx
        .arg("-p")
        .arg(format!("{}/", at.dir.display()))
        .arg("-c")
        .arg(at.dir.join("nginx.conf"))
        .arg("-e")
        .arg(at.dir.join("nginx-error.log"))
        .current_dir(at.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(at.dir.join("nginx.out")).expect("nginx output"));
    let nginx = Group::spawn(nginx, "nginx");
    Started {
        groups: vec![fpm, nginx],
        logs,
    }
}
