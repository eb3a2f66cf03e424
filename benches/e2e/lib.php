<?php
// Shared helpers of the end-to-end benchmark: the DSN, PDO connections, server counters and
// latency statistics. No benchmark logic here.

declare(strict_types=1);

const BENCH_DB = 'tiki_tokens_bench';

/** The parts of a `mysql://user:pass@host:port/db?socket=...` DSN (the extension's format). */
function bench_parse_dsn(string $dsn): array
{
    $u = parse_url($dsn);
    if ($u === false || ($u['scheme'] ?? '') !== 'mysql') {
        throw new RuntimeException("not a mysql:// DSN: $dsn");
    }
    parse_str($u['query'] ?? '', $q);
    return [
        'host' => $u['host'] ?? '127.0.0.1',
        'port' => (int) ($u['port'] ?? 3306),
        'user' => isset($u['user']) ? rawurldecode($u['user']) : 'root',
        'pass' => isset($u['pass']) ? rawurldecode($u['pass']) : '',
        'db' => ltrim($u['path'] ?? '', '/'),
        'socket' => $q['socket'] ?? null,
        'query' => $u['query'] ?? '',
    ];
}

/** `$dsn` with its database replaced by `$db` (what the extension and the shim are given). */
function bench_dsn_with_db(string $dsn, string $db): string
{
    [$base, $query] = array_pad(explode('?', $dsn, 2), 2, null);
    $schemeEnd = strpos($base, '://') + 3;
    $slash = strpos($base, '/', $schemeEnd);
    if ($slash !== false) {
        $base = substr($base, 0, $slash);
    }
    return "$base/$db" . ($query !== null ? "?$query" : '');
}

/**
 * A PDO connection like Tiki's: TCP (or the DSN's socket), utf8mb4, exceptions on error.
 * `$emulate` = PDO's default (emulated prepares, one COM_QUERY per statement, as Tiki uses it);
 * false = native server-side prepared statements (the floor).
 */
function bench_pdo(string $dsn, ?string $db = BENCH_DB, bool $emulate = true): PDO
{
    $p = bench_parse_dsn($dsn);
    $where = $p['socket'] !== null
        ? "unix_socket={$p['socket']}"
        : "host={$p['host']};port={$p['port']}";
    $pdoDsn = "mysql:$where;charset=utf8mb4" . ($db !== null ? ";dbname=$db" : '');
    return new PDO($pdoDsn, $p['user'], $p['pass'], [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => $emulate,
        PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
    ]);
}

/** The server counters that tell what a batch cost on the server (SHOW GLOBAL STATUS). */
const BENCH_COUNTERS = [
    'Questions', 'Com_select', 'Com_update', 'Com_delete', 'Com_insert', 'Com_stmt_execute',
    'Handler_read_key', 'Handler_read_rnd_next', 'Handler_update', 'Handler_delete', 'Handler_write',
];

/** A snapshot of BENCH_COUNTERS, read on its own connection. */
function bench_counters(PDO $observer): array
{
    $in = "'" . implode("','", BENCH_COUNTERS) . "'";
    $out = [];
    foreach ($observer->query("SHOW GLOBAL STATUS WHERE Variable_name IN ($in)") as $r) {
        $out[$r['Variable_name']] = (int) $r['Value'];
    }
    return $out;
}

/**
 * Counter deltas between two snapshots, minus what reading the snapshot itself costs
 * (`$calibration`, measured by two back-to-back snapshots).
 */
function bench_counter_delta(array $before, array $after, array $calibration = []): array
{
    $d = [];
    foreach (BENCH_COUNTERS as $k) {
        $d[$k] = ($after[$k] ?? 0) - ($before[$k] ?? 0) - ($calibration[$k] ?? 0);
    }
    return $d;
}

/** What reading the counters costs (one SHOW: Questions +1, Handler_* from its own scan). */
function bench_counter_calibration(PDO $observer): array
{
    $best = null;
    for ($i = 0; $i < 5; $i++) {
        $a = bench_counters($observer);
        $b = bench_counters($observer);
        $d = bench_counter_delta($a, $b);
        if ($best === null || $d['Questions'] < $best['Questions']) {
            $best = $d;
        }
    }
    return $best;
}

/** Percentile (nearest rank) of sorted nanosecond samples, in microseconds. */
function bench_percentile_us(array $sortedNs, float $p): float
{
    $n = count($sortedNs);
    if ($n === 0) {
        return NAN;
    }
    $rank = (int) ceil($p / 100 * $n);
    return $sortedNs[max(0, min($n - 1, $rank - 1))] / 1000.0;
}

/**
 * CPU time the server process has used so far, in ns: the sum over its threads of
 * /proc/PID/task/TID/schedstat (time on CPU; Linux, a server on this machine). null when
 * unreadable. Read around a batch it says what the batch cost the server, which the machine's
 * load disturbs much less than the latency.
 */
function bench_server_cpu_ns(?int $pid): ?int
{
    if ($pid === null || ! is_dir("/proc/$pid/task")) {
        return null;
    }
    $sum = 0;
    foreach (glob("/proc/$pid/task/*/schedstat") ?: [] as $f) {
        $line = @file_get_contents($f);
        if ($line !== false) {
            $sum += (int) strtok($line, ' ');
        }
    }
    return $sum;
}
