<?php
// Where the lookup's time goes on the server: the extension's lookup SELECT (its text copied
// from src/store/sql.rs, select_rows(), for trunk's table) taken apart, each part sent through
// PDO with native prepared statements next to the floor `SELECT *`, so that the client side is
// the same for all and the differences are the server's (and the bytes on the wire). The
// variants run interleaved in short batches; per variant: the median over batches of the p50
// latency and of the server's CPU time per call (mariadbd's threads, /proc schedstat).
//
//   php select_parts.php <dsn> <server pid> [batches=20] [calls per batch=1000]
//
// Needs a filled signed table (fill.php <dsn> <rows> <engine> trunk).

declare(strict_types=1);
require __DIR__ . '/lib.php';

[, $dsn, $pid, $batches, $calls] = $argv + [null, null, null, 20, 1000];
if ($dsn === null || $pid === null) {
    fwrite(STDERR, "usage: php select_parts.php <dsn> <server pid> [batches] [calls per batch]\n");
    exit(2);
}
[$pid, $batches, $calls] = [(int) $pid, (int) $batches, (int) $calls];
$db = bench_pdo($dsn, BENCH_DB, false);
$tokens = $db->query('SELECT token FROM tiki_auth_tokens WHERE tokenId % 100 = 51')->fetchAll(PDO::FETCH_COLUMN);
if (! $tokens || strlen($tokens[0]) !== 64) {
    fwrite(STDERR, "select_parts.php: fill the signed table first (fill.php ... trunk)\n");
    exit(1);
}

$columns = '`tokenId`, CAST(`creation` AS CHAR), `timeout`, `hits`, `maxhits`, `token`, `entry`, `parameters`, `groups`, '
    . '`email`, `createUser`, `userPrefix`, `user`, `data`';
$fresh = '(`timeout` = -1 OR UNIX_TIMESTAMP(`creation`) + `timeout` >= UNIX_TIMESTAMP())';
$now = 'UNIX_TIMESTAMP(NOW(6))';
$secret = "(SELECT `value` FROM `tiki_preferences` WHERE `name` = 'auth_token_secret')";
$from = ' FROM `tiki_auth_tokens` WHERE `token` = ?';
$variants = [
    'SELECT * (the floor)' => 'SELECT * FROM tiki_auth_tokens WHERE token = ?',
    'the columns by name, creation as text' => "SELECT $columns$from",
    '+ time check (database clock)' => "SELECT $columns, $fresh$from",
    '+ NOW(6): the lookup, secret given' => "SELECT $columns, $fresh, $now$from",
    '+ secret subquery: the lookup, secret from the table' => "SELECT $columns, $fresh, $now, $secret$from",
    'SELECT * + secret subquery' => "SELECT *, $secret FROM tiki_auth_tokens WHERE token = ?",
    // Other ways to bring the secret in the same statement.
    'the lookup, secret by LEFT JOIN on its primary key' => "SELECT $columns, $fresh, $now, p.`value` FROM `tiki_auth_tokens`"
        . " LEFT JOIN `tiki_preferences` p ON p.`name` = 'auth_token_secret' WHERE `token` = ?",
];
$statements = array_map(fn ($sql) => $db->prepare($sql), $variants);
$n = count($tokens);
foreach ($statements as $st) { // warm-up
    for ($i = 0; $i < 300; $i++) {
        $st->execute([$tokens[$i % $n]]);
        $st->fetchAll();
    }
}
$p50 = [];
$server = [];
for ($b = 0; $b < $batches; $b++) {
    $order = $b % 2 ? array_reverse(array_keys($variants)) : array_keys($variants);
    foreach ($order as $name) {
        $st = $statements[$name];
        $ns = [];
        $s0 = bench_server_cpu_ns($pid);
        for ($i = 0; $i < $calls; $i++) {
            $t = hrtime(true);
            $st->execute([$tokens[$i % $n]]);
            if (count($st->fetchAll()) !== 1) {
                throw new RuntimeException("$name: not one row");
            }
            $ns[] = hrtime(true) - $t;
        }
        $server[$name][] = (bench_server_cpu_ns($pid) - $s0) / 1000 / $calls;
        sort($ns);
        $p50[$name][] = bench_percentile_us($ns, 50);
    }
}
$median = function (array $v): float {
    sort($v);
    return $v[intdiv(count($v), 2)];
};
printf("%-55s %12s %12s %18s\n", 'variant', 'p50 µs', 'server µs', 'server − floor µs');
$floor = $median($server['SELECT * (the floor)']);
foreach ($variants as $name => $sql) {
    printf("%-55s %12.1f %12.1f %+18.1f\n", $name, $median($p50[$name]), $median($server[$name]), $median($server[$name]) - $floor);
}
printf("load average %s, %d batches of %d calls each\n", implode(' ', array_map(fn ($l) => round($l, 2), sys_getloadavg())), $batches, $calls);
