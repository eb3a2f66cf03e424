<?php
// Builds the benchmark table: a fresh database `tiki_tokens_bench` with Tiki 24's
// `tiki_auth_tokens` (DDL from tests/data/tiki24.sql, engine switched) filled with N realistic rows
// in one INSERT ... SELECT over a cross join of digits, with proper MD5 tokens computed in SQL.
//
//   php fill.php <dsn> <rows> <MyISAM|InnoDB>
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
// Prints one JSON line: rows, engine, seconds, counts of each kind.

declare(strict_types=1);
require __DIR__ . '/lib.php';

[, $dsn, $rows, $engine] = $argv + [null, null, null, null];
$rows = (int) $rows;
if ($dsn === null || $rows < 1 || ! in_array($engine, ['MyISAM', 'InnoDB'], true)) {
    fwrite(STDERR, "usage: php fill.php <dsn> <rows> <MyISAM|InnoDB>\n");
    exit(2);
}

$t0 = hrtime(true);
$server = bench_pdo($dsn, null);
$server->exec('DROP DATABASE IF EXISTS ' . BENCH_DB);
$server->exec('CREATE DATABASE ' . BENCH_DB . ' CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
$db = bench_pdo($dsn);

// Tiki 24's DDL exactly, with the engine of this run.
$ddl = file_get_contents(__DIR__ . '/../../tests/data/tiki24.sql');
$ddl = preg_replace('/^\s*--.*$/m', '', $ddl);
foreach (array_filter(array_map('trim', explode(";\n", $ddl))) as $stmt) {
    if (str_contains($stmt, 'CREATE TABLE tiki_auth_tokens')) {
        $stmt = preg_replace('/ENGINE=\w+/', "ENGINE=$engine", $stmt, 1, $n);
        if ($n !== 1) {
            throw new RuntimeException('tiki24.sql: no ENGINE= in the tiki_auth_tokens DDL');
        }
    }
    $db->exec(rtrim($stmt, ';'));
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

// The row mix is shared with scripts/fpm_load.sh (benches/e2e/rows.sql).
$sql = strtr(file_get_contents(__DIR__ . '/rows.sql'), ['{numbers}' => $numbers, '{rows}' => (string) $rows]);
$db->exec($sql);
$db->exec('DROP TABLE bench_digits');
// The tokens as Tiki computes them (the stored creation, read back in the session time zone):
// this fixes any row whose stored creation renders differently (a DST overlap) and is
// otherwise one scan that changes nothing.
$fixed = $db->exec('UPDATE tiki_auth_tokens SET token = MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`))
    WHERE token != MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`))');
$db->query('ANALYZE TABLE tiki_auth_tokens')->fetchAll();

// One scan for all the counts.
$c = $db->query('SELECT COUNT(*) AS `rows`,
    SUM(timeout != -1 AND UNIX_TIMESTAMP(creation) + timeout < UNIX_TIMESTAMP()) AS expired_by_time,
    SUM(hits = 0) AS used_up,
    SUM(hits = -1 AND tokenId % 100 = 51) AS bench_unlimited,
    SUM(maxhits = 100000000 AND hits = 100000000) AS bench_limited,
    SUM(token IS NULL OR token != MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`))) AS bad_tokens
    FROM tiki_auth_tokens')->fetch();
$stats = array_map('intval', $c) + [
    'engine' => $db->query("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tiki_auth_tokens'")->fetchColumn(),
    'tokens_fixed_up' => $fixed,
    'seconds' => round((hrtime(true) - $t0) / 1e9, 1),
];
if ($stats['rows'] !== $rows || $stats['bad_tokens'] !== 0 || $stats['engine'] !== $engine) {
    fwrite(STDERR, 'fill.php: table is not what was asked: ' . json_encode($stats) . "\n");
    exit(1);
}
echo json_encode($stats), "\n";
