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

// Every column in a derived table first, so that the token is computed from the very values
// stored, in the same statement: the table is then as compact as Tiki's own (Tiki inserts a row
// and sets its token right away), where a later UPDATE of 1M NULL tokens would split pages.
$sql = <<<SQL
INSERT INTO tiki_auth_tokens
  (tokenId, creation, timeout, hits, maxhits, token, entry, email, parameters, `groups`, createUser, userPrefix)
SELECT tokenId, creation, timeout, hits, maxhits,
  MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`)),
  entry, email, parameters, `groups`, createUser, userPrefix
FROM (SELECT n + 1 AS tokenId,
  CASE WHEN n % 100 < 3 THEN NOW() - INTERVAL (8 * 86400 + n % 86400) SECOND
       WHEN n % 100 IN (50, 51) THEN NOW() - INTERVAL (n % 3600) SECOND
       ELSE NOW() - INTERVAL ((n * 7919) % (6 * 86400)) SECOND END AS creation,
  CASE WHEN n % 100 < 5 OR n % 100 IN (50, 51) THEN 604800
       WHEN n % 7 = 0 THEN -1 ELSE 604800 END AS timeout,
  CASE WHEN n % 100 IN (3, 4) THEN 0
       WHEN n % 100 = 50 THEN -1
       WHEN n % 100 = 51 THEN 100000000
       WHEN n % 6 = 0 THEN -1 ELSE 1 + (n * 31) % 10 END AS hits,
  CASE WHEN n % 100 = 50 THEN -1
       WHEN n % 100 = 51 THEN 100000000
       WHEN n % 6 = 0 THEN -1 ELSE 1 + (n * 31) % 10 END AS maxhits,
  ELT(1 + n % 5, '/tiki-index.php', '/tiki-download_file.php', '/tiki-ajax_services.php',
                 '/tiki-view_tracker_item.php', '/tiki-print.php') AS entry,
  CONCAT('user', n % 5000, '@example.org') AS email,
  CASE n % 5
    WHEN 0 THEN CONCAT('{"page":"Meeting notes ', n, '"}')
    WHEN 1 THEN IF(n % 2 = 0, CONCAT('{"fileId":', n, '}'), CONCAT('{"fileId":"', n, '"}'))
    WHEN 2 THEN CONCAT('{"controller":"tracker","action":"export_items","trackerId":"', 1 + n % 40, '"}')
    WHEN 3 THEN CONCAT('{"itemId":"', n, '","trackerId":"', 1 + n % 40, '"}')
    ELSE CONCAT('{"page":"Project ', n % 900, '","display":"pdf"}') END AS parameters,
  ELT(1 + n % 4, '["Registered"]', '["Admins","Registered"]', '["Editors"]', '["Registered","Partners"]') AS `groups`,
  IF(n % 100 = 97, 'y', 'n') AS createUser,
  '_token' AS userPrefix
FROM ($numbers) numbers
WHERE n < $rows) r
SQL;
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
