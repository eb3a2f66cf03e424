<?php
// A router script for PHP's built-in web server (php -S 127.0.0.1:PORT -t DOCROOT php_s_router.php)
// that does what Tiki's .htaccess asks of Apache for a site installed at a base path: a path below
// the base that names an existing file or directory is served as it is; any other goes to
// <base>route.php (Tiki's front controller; here php/www/route.php), with SCRIPT_NAME, PHP_SELF and
// SCRIPT_FILENAME set to route.php's as a rewrite sets them (php -S would otherwise name this
// router, or an index.php further up with the rest as PATH_INFO). REQUEST_URI stays the raw
// request, as under a rewrite. Used by scripts/demo.sh and by the tests' php -S backend
// (testkit/src/web/php_builtin.rs).
//
// The base (starting and ending with '/', e.g. /tiki/) is the INI value tiki_tokens_router.base:
// php -n -d tiki_tokens_router.base=/tiki/ -S ... (default '/').
$base = get_cfg_var('tiki_tokens_router.base') ?: '/';
$uri = $_SERVER['REQUEST_URI'];
$q = strpos($uri, '?');
$path = rawurldecode($q === false ? $uri : substr($uri, 0, $q));
$root = $_SERVER['DOCUMENT_ROOT'];
// The script part of a path with PATH_INFO (/x.php/more) counts as an existing file.
$script = preg_match('~^(.*?\.php)(/|$)~', $path, $m) ? $m[1] : $path;
if (strncmp($path, $base, strlen($base)) !== 0 || is_file($root . $script) || is_dir($root . $path)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $base . 'route.php';
$_SERVER['SCRIPT_FILENAME'] = $root . $base . 'route.php';
unset($_SERVER['PATH_INFO'], $_SERVER['PATH_TRANSLATED']);
chdir(dirname($_SERVER['SCRIPT_FILENAME']));
require $_SERVER['SCRIPT_FILENAME'];
