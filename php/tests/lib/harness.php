<?php
/**
 * The harness of the PHP test files under php/tests/: named test cases made of assert() lines
 * (run PHP with -d zend.assertions=1 -d assert.exception=1), a final "N passed, M failed" line
 * and exit status 1 on any failure; plus database helpers that talk to the test server through
 * the mariadb command-line client (the PHP CLI here has no MySQL driver).
 *
 * Environment (set by tests/php_api.rs):
 *   TIKI_TOKENS_TEST_DB      DSN of a fresh, empty database of this test file
 *   TIKI_TOKENS_REPO         the repository root (for tests/data/*.sql)
 *   TIKI_TOKENS_SQL_CLIENT   optional: the client binary (default: mariadb)
 */

if (ini_get('zend.assertions') !== '1' || ! in_array(ini_get('assert.exception'), ['1', 'On', 'on'], true)) {
    fwrite(STDERR, "run with -d zend.assertions=1 -d assert.exception=1\n");
    exit(2);
}
if (! extension_loaded('tiki_tokens')) {
    fwrite(STDERR, "the tiki_tokens extension is not loaded (php -d extension=/abs/path/tiki_tokens.so)\n");
    exit(2);
}

$GLOBALS['__t'] = ['passed' => 0, 'failed' => 0, 'dbs' => []];

/** Runs one named test case; any Throwable (a failed assert() included) fails it. */
function test(string $name, callable $case): void
{
    try {
        $case();
        $GLOBALS['__t']['passed']++;
        echo "ok - $name\n";
    } catch (\Throwable $e) {
        $GLOBALS['__t']['failed']++;
        $where = basename($e->getFile()) . ':' . $e->getLine();
        foreach ($e->getTrace() as $frame) {
            if (isset($frame['file']) && strpos($frame['file'], '/lib/') === false) {
                $where = basename($frame['file']) . ':' . $frame['line'];
                break;
            }
        }
        if ($e instanceof \AssertionError) {
            $where = basename($e->getFile()) . ':' . $e->getLine();
        }
        echo "FAIL - $name: " . get_class($e) . ': ' . $e->getMessage() . " ($where)\n";
    }
}

/** Prints the closing line and exits (status 1 when a case failed or none ran). */
function done(): void
{
    $t = $GLOBALS['__t'];
    echo "{$t['passed']} passed, {$t['failed']} failed\n";
    exit($t['failed'] > 0 || $t['passed'] === 0 ? 1 : 0);
}

/** Runs $fn and returns what it threw; fails unless it threw an instance of $class. */
function throws(string $class, callable $fn, ?string $contains = null): \Throwable
{
    try {
        $fn();
    } catch (\Throwable $e) {
        assert($e instanceof $class, "expected $class, got " . get_class($e) . ': ' . $e->getMessage());
        if ($contains !== null) {
            assert(stripos($e->getMessage(), $contains) !== false, "message lacks '$contains': " . $e->getMessage());
        }
        return $e;
    }
    assert(false, "expected $class, nothing was thrown");
    throw new \LogicException('unreachable');
}

/** The DSN of this test file's fresh database. */
function base_dsn(): string
{
    $dsn = getenv('TIKI_TOKENS_TEST_DB');
    if (! is_string($dsn) || $dsn === '') {
        fwrite(STDERR, "TIKI_TOKENS_TEST_DB is not set (run through tests/php_api.rs)\n");
        exit(2);
    }
    return $dsn;
}

/** The repository root. */
function repo(): string
{
    return getenv('TIKI_TOKENS_REPO') ?: dirname(__DIR__, 3);
}

/** $dsn with another database name. */
function dsn_with_db(string $dsn, string $db): string
{
    return preg_replace('#^([a-z]+://[^/]*)/[^?]*#', '$1/' . $db, $dsn);
}

/** The database name of a DSN. */
function dsn_db(string $dsn): string
{
    return rawurldecode(ltrim((string) parse_url($dsn, PHP_URL_PATH), '/'));
}

/** Runs SQL through the command-line client; returns the rows of the last result (assoc arrays). */
function sql(string $dsn, string $sql): array
{
    $u = parse_url($dsn);
    $cmd = [getenv('TIKI_TOKENS_SQL_CLIENT') ?: 'mariadb', '--no-defaults', '--batch', '--default-character-set=utf8mb4'];
    $cmd[] = '-h' . ($u['host'] ?? '127.0.0.1');
    if (isset($u['port'])) {
        $cmd[] = '-P' . $u['port'];
    }
    $cmd[] = '-u' . rawurldecode($u['user'] ?? 'root');
    if (isset($u['pass'])) {
        $cmd[] = '-p' . rawurldecode($u['pass']);
    }
    parse_str($u['query'] ?? '', $q);
    if (isset($q['socket'])) {
        $cmd[] = '--socket=' . $q['socket'];
    } else {
        $cmd[] = '--protocol=TCP';
    }
    $db = dsn_db($dsn);
    if ($db !== '') {
        $cmd[] = $db;
    }
    $proc = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    if (! is_resource($proc)) {
        throw new \RuntimeException('cannot run the SQL client');
    }
    fwrite($pipes[0], $sql);
    fclose($pipes[0]);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    if (proc_close($proc) !== 0) {
        throw new \RuntimeException("SQL failed: $err\n$sql");
    }
    $lines = $out === '' ? [] : explode("\n", rtrim($out, "\n"));
    if (! $lines) {
        return [];
    }
    $unescape = static function (string $v) {
        if ($v === 'NULL') {
            return null;
        }
        return strtr($v, ['\\n' => "\n", '\\t' => "\t", '\\0' => "\0", '\\\\' => '\\']);
    };
    $head = array_map($unescape, explode("\t", array_shift($lines)));
    $rows = [];
    foreach ($lines as $line) {
        $rows[] = array_combine($head, array_map($unescape, explode("\t", $line)));
    }
    return $rows;
}

/** The first column of the first row, or null. */
/**
 * Runs $statements in a separate mariadb client session that stays open (a lock it takes is
 * held), waits until they ran, and returns a function that runs $release in the same session
 * and closes it.
 */
function hold(string $dsn, string $statements, string $release): callable
{
    $u = parse_url($dsn);
    $cmd = [getenv('TIKI_TOKENS_SQL_CLIENT') ?: 'mariadb', '--no-defaults', '--batch', '--unbuffered',
        '-h' . ($u['host'] ?? '127.0.0.1'), '-P' . ($u['port'] ?? 3306), '-u' . rawurldecode($u['user'] ?? 'root'),
        '--protocol=TCP', dsn_db($dsn)];
    if (isset($u['pass'])) {
        $cmd[] = '-p' . rawurldecode($u['pass']);
    }
    $proc = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    if (! is_resource($proc)) {
        throw new \RuntimeException('cannot run the SQL client');
    }
    $marker = 'held_' . bin2hex(random_bytes(4));
    fwrite($pipes[0], $statements . "\nSELECT '$marker';\n");
    fflush($pipes[0]);
    // The client prints the marker once every statement before it ran: the lock is held.
    $seen = '';
    $deadline = microtime(true) + 10;
    while (! str_contains($seen, $marker) && microtime(true) < $deadline) {
        $seen .= (string) fgets($pipes[1]);
    }
    if (! str_contains($seen, $marker)) {
        throw new \RuntimeException("the lock was not taken: $seen " . stream_get_contents($pipes[2]));
    }
    return static function () use ($proc, $pipes, $release) {
        fwrite($pipes[0], $release . "\n");
        fclose($pipes[0]);
        stream_get_contents($pipes[1]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        proc_close($proc);
    };
}

function sql_one(string $dsn, string $query)
{
    $rows = sql($dsn, $query);
    return $rows ? reset($rows[0]) : null;
}

/**
 * A new database beside this file's fresh one, with Tiki's table as $variant ('tiki24' or
 * 'trunk') creates it and, with $fixture, the three rows of Tiki's test fixture. Dropped at exit
 * (unless TIKI_TOKENS_KEEP_DB is set).
 */
function fresh_db(string $variant, bool $fixture = true, string $engine = 'MyISAM'): string
{
    static $n = 0;
    $base = base_dsn();
    $name = substr(dsn_db($base), 0, 40) . '_' . $variant . '_' . (++$n);
    sql(dsn_with_db($base, ''), "DROP DATABASE IF EXISTS `$name`; CREATE DATABASE `$name`;");
    $GLOBALS['__t']['dbs'][] = $name;
    $dsn = dsn_with_db($base, $name);
    $ddl = file_get_contents(repo() . "/tests/data/$variant.sql");
    if ($engine !== 'MyISAM') {
        $ddl = str_replace('ENGINE=MyISAM', "ENGINE=$engine", $ddl);
    }
    sql($dsn, $ddl);
    if ($fixture) {
        sql($dsn, file_get_contents(repo() . '/tests/data/fixture.sql'));
    }
    return $dsn;
}

register_shutdown_function(static function () {
    if (getenv('TIKI_TOKENS_KEEP_DB') || ! $GLOBALS['__t']['dbs']) {
        return;
    }
    $drop = '';
    foreach ($GLOBALS['__t']['dbs'] as $name) {
        $drop .= "DROP DATABASE IF EXISTS `$name`;\n";
    }
    try {
        sql(dsn_with_db(base_dsn(), ''), $drop);
    } catch (\Throwable $e) {
        // best effort
    }
});

/** The token value Tiki computes for a row: MD5 or HMAC-SHA256 of its payload. */
function token_of_row(array $row, ?string $secret = null): string
{
    $payload = $row['tokenId'] . $row['creation'] . $row['timeout'] . $row['entry'] . $row['parameters'] . $row['groups'];
    return $secret === null ? md5($payload) : hash_hmac('sha256', $payload, $secret);
}

/** The signing secret stored in tiki_preferences, or null. */
function stored_secret(string $dsn): ?string
{
    return sql_one($dsn, "SELECT value FROM tiki_preferences WHERE name = 'auth_token_secret'");
}

/**
 * Re-signs a row after the test changed it (as if it had been made that way): the token becomes
 * the MD5 (32-character token) or HMAC (64) of the row as the database now renders it.
 */
function resign(string $dsn, int $tokenId): string
{
    $row = sql($dsn, "SELECT tokenId, creation, timeout, entry, parameters, `groups`, token FROM tiki_auth_tokens WHERE tokenId = $tokenId")[0];
    $token = strlen((string) $row['token']) === 64 ? token_of_row($row, stored_secret($dsn)) : token_of_row($row);
    sql($dsn, "UPDATE tiki_auth_tokens SET token = '$token' WHERE tokenId = $tokenId");
    return $token;
}
