<?php
// Builds the benchmark table: a fresh database `tiki_tokens_bench` with `tiki_auth_tokens` as
// Tiki 24 creates it (DDL from tests/data/tiki24.sql: CHAR(32), legacy MD5 tokens) or as Tiki
// trunk has it after its migration (tests/data/trunk.sql: VARCHAR(64), signed tokens), the engine
// of every table of the DDL switched, filled with N realistic rows in one INSERT ... SELECT over a
// cross join of digits, with the tokens computed in SQL and then checked for every row.
//
//   php fill.php <dsn> <rows> <MyISAM|InnoDB> [tiki24|trunk]
//
// tiki24: tokens = MD5(payload), checked in SQL with MD5(CONCAT(tokenId, creation, timeout,
// entry, parameters, groups)). trunk: a random 64-hex secret in tiki_preferences (as Tiki's
// migration seeds it, among 400 other preferences: a site has hundreds), tokens = HMAC-SHA256 of
// the same payload keyed by the secret's text, computed in SQL with the standard construction
// (SHA2 over the key XOR ipad/opad, which PHP precomputes, since SQL has no HMAC), and each row
// checked again in PHP with hash_hmac() on the row as the server renders it (an implementation
// that shares nothing with the SQL one).
//
// Row mix, by c = n % 100 (n = tokenId - 1):
//   c = 0..2   expired by time (created 8+ days ago, timeout 604800)        ~3 %
//   c = 3..4   used up (hits = 0)                                          ~2 %
//   c = 50     benchmark tokens with unlimited hits (-1), valid 7 days      1 %
//   c = 51     benchmark tokens with 100,000,000 hits, valid 7 days         1 %
//   otherwise  live tokens: 1..10 hits or unlimited, timeout 7 days or never
// Entries and params by n % 5: /tiki-index.php {"page":...}, /tiki-download_file.php
// {"fileId":"..."} (and {"fileId":123} as Tiki's own code stores it), /tiki-ajax_services.php
// tracker export, /tiki-view_tracker_item.php {"itemId":...}, /tiki-print.php {"page":...}.
// Prints one JSON line: rows, engine, table, seconds, counts of each kind.

declare(strict_types=1);
require __DIR__ . '/lib.php';

/**
 * HMAC-SHA256 of the SQL expression `$message` keyed by `$key`, as an SQL expression giving
 * lowercase hex (what PHP's hash_hmac('sha256', ...) gives): RFC 2104's
 * H((K ^ opad) || H((K ^ ipad) || m)) with H = SHA-256 (block 64 bytes), where K ^ ipad and
 * K ^ opad are constants computed here and written as hex literals.
 */
function bench_hmac_sql(string $message, string $key): string
{
    if (strlen($key) > 64) {
        $key = hash('sha256', $key, true);
    }
    $key = str_pad($key, 64, "\0");
    $ipad = bin2hex($key ^ str_repeat("\x36", 64));
    $opad = bin2hex($key ^ str_repeat("\x5c", 64));
    // ASCII, as the token column of the signed table is (SHA2 answers in the connection charset).
    return "CONVERT(SHA2(CONCAT(X'$opad', UNHEX(SHA2(CONCAT(X'$ipad', $message), 256))), 256) USING ascii)";
}

[, $dsn, $rows, $engine, $table] = $argv + [null, null, null, null, 'tiki24'];
$rows = (int) $rows;
if ($dsn === null || $rows < 1 || ! in_array($engine, ['MyISAM', 'InnoDB'], true) || ! in_array($table, ['tiki24', 'trunk'], true)) {
    fwrite(STDERR, "usage: php fill.php <dsn> <rows> <MyISAM|InnoDB> [tiki24|trunk]\n");
    exit(2);
}
$signed = $table === 'trunk';

$t0 = hrtime(true);
$server = bench_pdo($dsn, null);
$server->exec('DROP DATABASE IF EXISTS ' . BENCH_DB);
$server->exec('CREATE DATABASE ' . BENCH_DB . ' CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
$db = bench_pdo($dsn);

// The DDL exactly (tests/data/tiki24.sql or trunk.sql), with the engine of this run for every
// table: a site's tables share one engine (Tiki's installer converts them all), and on the
// signed table the lookup may read tiki_preferences too.
$ddl = file_get_contents(__DIR__ . "/../../tests/data/$table.sql");
$ddl = preg_replace('/^\s*--.*$/m', '', $ddl);
foreach (array_filter(array_map('trim', explode(";\n", $ddl))) as $stmt) {
    if (str_starts_with($stmt, 'CREATE TABLE')) {
        $stmt = preg_replace('/ENGINE=\w+/', "ENGINE=$engine", $stmt, 1, $n);
        if ($n !== 1) {
            throw new RuntimeException("$table.sql: no ENGINE= in: " . strtok($stmt, "\n"));
        }
    }
    $db->exec(rtrim($stmt, ';'));
}

// The token of a row, as an SQL expression over its columns (the payload: SPEC section 2).
$payload = 'CONCAT(tokenId, creation, timeout, entry, parameters, `groups`)';
$md5 = "MD5($payload)";
$secret = null;
if ($signed) {
    // A secret as Tiki's migration seeds it (64 hex characters), among a site's other preferences.
    $secret = bin2hex(random_bytes(32));
    $prefs = $db->prepare('REPLACE INTO tiki_preferences (name, value) VALUES (?, ?)');
    $prefs->execute(['auth_token_secret', $secret]);
    for ($i = 0; $i < 400; $i++) {
        $prefs->execute([sprintf('bench_pref_%03d', $i), "value $i"]);
    }
    $tokenSql = bench_hmac_sql($payload, $secret);
} else {
    $tokenSql = $md5;
}

// The numbers 0 .. rows-1 from a cross join of copies of a digits table (a MEMORY table, since
// a TEMPORARY table may not appear twice in one statement).
$db->exec('CREATE TABLE bench_digits (d INT NOT NULL PRIMARY KEY) ENGINE=MEMORY');
$db->exec('INSERT INTO bench_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)');
$width = max(1, (int) ceil(log10($rows)));
$terms = [];
$from = [];
for ($i = 0; $i < $width; $i++) {
    $terms[] = $i === 0 ? 'd0.d' : "d$i.d * " . (10 ** $i);
    $from[] = "bench_digits d$i";
}
$numbers = 'SELECT ' . implode(' + ', $terms) . ' AS n FROM ' . implode(' CROSS JOIN ', $from);

// The row mix is shared with scripts/fpm_load.sh (benches/e2e/rows.sql), which computes MD5
// tokens; the signed table gets the HMAC in the same place.
$sql = strtr(file_get_contents(__DIR__ . '/rows.sql'), ['{numbers}' => $numbers, '{rows}' => (string) $rows]);
if (substr_count($sql, $md5) !== 1) {
    throw new RuntimeException("rows.sql: the token expression $md5 is not there exactly once");
}
$db->exec(str_replace($md5, $tokenSql, $sql));
$db->exec('DROP TABLE bench_digits');
// The tokens as Tiki computes them (the stored creation, read back in the session time zone):
// this fixes any row whose stored creation renders differently (a DST overlap) and is
// otherwise one scan that changes nothing.
$fixed = $db->exec("UPDATE tiki_auth_tokens SET token = $tokenSql WHERE token != $tokenSql");
$db->query('ANALYZE TABLE tiki_auth_tokens')->fetchAll();
if ($signed) {
    $db->query('ANALYZE TABLE tiki_preferences')->fetchAll();
}

// One scan for all the counts.
$c = $db->query("SELECT COUNT(*) AS `rows`,
    SUM(timeout != -1 AND UNIX_TIMESTAMP(creation) + timeout < UNIX_TIMESTAMP()) AS expired_by_time,
    SUM(hits = 0) AS used_up,
    SUM(hits = -1 AND tokenId % 100 = 51) AS bench_unlimited,
    SUM(maxhits = 100000000 AND hits = 100000000) AS bench_limited,
    SUM(token IS NULL OR token != $tokenSql) AS bad_tokens
    FROM tiki_auth_tokens")->fetch();
$stats = array_map('intval', $c) + [
    'engine' => $db->query("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tiki_auth_tokens'")->fetchColumn(),
    'table' => $table,
    'token_length' => (int) $db->query('SELECT MIN(LENGTH(token)) FROM tiki_auth_tokens')->fetchColumn(),
    'tokens_fixed_up' => $fixed,
];
$wanted = $signed ? 64 : 32;
if ($signed) {
    // Every row again in PHP: the token must be hash_hmac() of the payload as the server renders
    // the row (what the extension verifies against).
    $stats['php_checked'] = 0;
    $stats['php_bad'] = 0;
    $check = $db->prepare('SELECT tokenId, CAST(creation AS CHAR) AS creation, timeout, entry, parameters, `groups`, token
        FROM tiki_auth_tokens WHERE tokenId > ? ORDER BY tokenId LIMIT 20000');
    $last = 0;
    do {
        $check->execute([$last]);
        $batch = $check->fetchAll();
        foreach ($batch as $r) {
            $p = $r['tokenId'] . $r['creation'] . $r['timeout'] . $r['entry'] . $r['parameters'] . $r['groups'];
            $stats['php_checked']++;
            if (! hash_equals(hash_hmac('sha256', $p, $secret), (string) $r['token'])) {
                $stats['php_bad']++;
            }
            $last = (int) $r['tokenId'];
        }
    } while ($batch);
}
$stats['seconds'] = round((hrtime(true) - $t0) / 1e9, 1);
if ($stats['rows'] !== $rows || $stats['bad_tokens'] !== 0 || $stats['engine'] !== $engine || $stats['token_length'] !== $wanted
    || ($signed && ($stats['php_checked'] !== $rows || $stats['php_bad'] !== 0))) {
    fwrite(STDERR, 'fill.php: table is not what was asked: ' . json_encode($stats) . "\n");
    exit(1);
}
echo json_encode($stats), "\n";
