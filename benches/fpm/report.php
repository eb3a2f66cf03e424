<?php
// Checks and summary of scripts/fpm_load.sh: reads the raw data the script left in its output
// directory, writes results.txt (the summary, also printed) and results.json, and exits 1 when any
// check fails.
//
//   php report.php target/fpm-load

declare(strict_types=1);

$dir = $argv[1] ?? null;
if ($dir === null || ! is_dir($dir)) {
    fwrite(STDERR, "usage: php report.php <dir>\n");
    exit(2);
}

/** Tab-separated file → list of rows (arrays of fields); [] when missing. */
function tsv(string $file): array
{
    if (! is_file($file)) {
        return [];
    }
    $rows = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
        $rows[] = explode("\t", $line);
    }
    return $rows;
}

/** Two-column file → map. */
function kv(string $file): array
{
    $map = [];
    foreach (tsv($file) as $r) {
        $map[$r[0]] = $r[1] ?? '';
    }
    return $map;
}

function percentile(array $sorted, float $p): float
{
    if (! $sorted) {
        return 0.0;
    }
    $i = (int) ceil($p / 100 * count($sorted)) - 1;
    return (float) $sorted[max(0, min(count($sorted) - 1, $i))];
}

$facts = kv("$dir/facts.tsv");
$workers = (int) $facts['workers'];
$poolMax = (int) $facts['pool_max'];
$nHits = (int) $facts['n_hits'];
$connections = (int) $facts['connections'];
$tokens = json_decode((string) file_get_contents("$dir/tokens.json"), true);

$checks = [];
$check = static function (string $name, bool $ok, string $detail) use (&$checks): void {
    $checks[] = ['check' => $name, 'ok' => $ok, 'detail' => $detail];
};

// What each kind of request must get: status and X-Token-Result (a regex).
$expect = [
    'valid' => [[200, '/^granted$/']],
    'limited' => [[200, '/^granted$/']],
    'invalid' => [[403, '/^denied (params_mismatch|entry_mismatch|bad_signature)$/']],
    'garbage' => [[403, '/^denied malformed$/']],
    'unknown' => [[403, '/^denied unknown$/']],
    'none' => [[200, '/^none$/']],
    'nhit' => [[200, '/^granted$/'], [403, '/^denied (exhausted|lost_race|unknown)$/']],
];
$expected = static function (string $kind, int $status, string $result) use ($expect): bool {
    foreach ($expect[$kind] ?? [] as [$s, $re]) {
        if ($status === $s && preg_match($re, $result)) {
            return true;
        }
    }
    return false;
};

// ---- wrk runs
$runs = [];
foreach (['warmup', 'warmup-more', 'mixed', 'nhit', 'malformed', 'unknown'] as $name) {
    $file = "$dir/wrk-$name.json";
    if (! is_file($file)) {
        continue;
    }
    $r = json_decode((string) file_get_contents($file), true);
    if (! is_array($r)) {
        $check("wrk $name: result readable", false, "$file is not JSON");
        continue;
    }
    $byKind = [];
    $unexpected = [];
    $fivexx = 0;
    foreach ($r['counts'] as $key => $n) {
        [$kind, $status, $result] = explode('|', $key, 3) + [null, null, ''];
        $status = (int) $status;
        $byKind[$kind][$status . ' ' . $result] = $n;
        if ($status >= 500) {
            $fivexx += $n;
        }
        if (! $expected($kind, $status, $result)) {
            $unexpected[] = "$n × $kind → $status '$result'";
        }
    }
    ksort($byKind);
    $e = $r['errors'];
    $socket = $e['connect'] + $e['read'] + $e['write'] + $e['timeout'];
    $r['by_kind'] = $byKind;
    $r['socket_errors'] = $socket;
    $runs[$name] = $r;
    $check("wrk $name: no socket errors", $socket === 0, sprintf('connect %d, read %d, write %d, timeout %d', $e['connect'], $e['read'], $e['write'], $e['timeout']));
    $check("wrk $name: no 5xx", $fivexx === 0, "$fivexx responses 5xx");
    $check("wrk $name: every response as expected for its kind", ! $unexpected && $r['requests'] > 0,
        $unexpected ? implode('; ', array_slice($unexpected, 0, 10)) : "{$r['requests']} responses checked");
}
foreach (['warmup', 'mixed', 'nhit', 'malformed', 'unknown'] as $name) {
    if (! isset($runs[$name])) {
        $check("wrk $name: ran", false, 'no result');
    }
}
$nhitGrantsWrk = (int) ($runs['nhit']['by_kind']['nhit']['200 granted'] ?? 0);
$check("exactly N: the $nHits-hit token granted $nHits times (wrk, $facts[nhit_connections] connections, during the mixed run)",
    $nhitGrantsWrk === $nHits, "$nhitGrantsWrk grants counted by wrk");

// ---- FPM's access log, sliced by phase: "<kind> <status> <ms>" per request PHP served
$log = file("$dir/fpm/access.log", FILE_IGNORE_NEW_LINES) ?: [];
$marks = kv("$dir/phases.tsv");
$slice = static function (string $from, string $to) use ($log, $marks): array {
    $a = (int) ($marks[$from] ?? 0);
    $b = (int) ($marks[$to] ?? count($log));
    return array_slice($log, $a, max(0, $b - $a));
};
$tally = static function (array $lines): array {
    $t = ['total' => 0, 'by' => [], 'ms' => []];
    foreach ($lines as $line) {
        $f = preg_split('/\s+/', trim($line));
        if (count($f) < 3) {
            continue;
        }
        [$kind, $status, $ms] = $f;
        $t['total']++;
        $t['by']["$kind $status"] = ($t['by']["$kind $status"] ?? 0) + 1;
        $t['ms'][$kind][] = (float) $ms;
    }
    ksort($t['by']);
    return $t;
};
$phases = [
    'mixed' => $tally($slice('mixed', 'after_mixed')),
    'malformed' => $tally($slice('malformed', 'unknown')),
    'unknown' => $tally($slice('unknown', 'end')),
];
$all = $tally($log);
$fpm5xx = 0;
foreach ($all['by'] as $k => $n) {
    if ((int) substr($k, strrpos($k, ' ') + 1) >= 500) {
        $fpm5xx += $n;
    }
}
$check('FPM access log: no 5xx', $fpm5xx === 0, "$fpm5xx of {$all['total']} requests");
$nhitGrantsFpm = $phases['mixed']['by']['nhit 200'] ?? 0;
$check("exactly N: PHP served $nHits grants of the $nHits-hit token (FPM access log)", $nhitGrantsFpm === $nHits, "$nhitGrantsFpm");
$serverMs = [];
foreach ($phases['mixed']['ms'] as $kind => $ms) {
    sort($ms);
    $serverMs[$kind] = ['n' => count($ms), 'p50' => percentile($ms, 50), 'p99' => percentile($ms, 99), 'max' => end($ms)];
}
ksort($serverMs);

// ---- the database after the load
$dbRows = tsv("$dir/db-facts.tsv");
$db = [];
$limitedLeft = [];
foreach ($dbRows as $r) {
    if ($r[0] === 'limited_hits') {
        $limitedLeft[(int) $r[1]] = (int) $r[2];
    } else {
        $db[$r[0]] = array_slice($r, 1);
    }
}
$nhitLeft = $db['nhit_hits_left'][0] ?? '?';
$check("exactly N: no hits left in the database", $nhitLeft === '0' || $nhitLeft === 'gone', "hits = $nhitLeft");
$after = $db['nhit_after'] ?? ['?', '?'];
$check('exactly N: denied afterwards', $after[0] === '403' && preg_match('/^denied (exhausted|unknown)$/', $after[1] ?? '') === 1, "$after[0] '" . ($after[1] ?? '') . "'");
$consumed = 0;
foreach ($tokens['limited'] as $t) {
    $consumed += $t['hits'] - ($limitedLeft[$t['tokenId']] ?? $t['hits']);
}
$limitedGrants = 0;
foreach ($all['by'] as $k => $n) {
    if ($k === 'limited 200') {
        $limitedGrants += $n;
    }
}
$check('limited tokens: hits consumed in the database = grants PHP served', $consumed === $limitedGrants && count($limitedLeft) === count($tokens['limited']),
    "consumed $consumed, grants $limitedGrants");

// ---- connections
$samples = tsv("$dir/connections.tsv");
$maxTiki = 0;
$maxThreads = 0;
$maxUsed = 0;
foreach ($samples as $s) {
    $maxTiki = max($maxTiki, (int) $s[1]);
    $maxThreads = max($maxThreads, (int) $s[2]);
    $maxUsed = max($maxUsed, (int) $s[3]);
}
$points = kv("$dir/connections-points.tsv");
$bound = $workers * $poolMax;
$check('connections sampled during the mixed run', count($samples) >= 10, count($samples) . ' samples');
$check("connections of the pool's user ≤ workers × pool maximum ($workers × $poolMax = $bound)", $maxTiki <= $bound, "max $maxTiki");
$check("connections of the pool's user ≤ workers ($workers: one per worker)", $maxTiki <= $workers, "max $maxTiki");
$check("Threads_connected − the sampler ≤ $bound", $maxThreads - 1 <= $bound, "max Threads_connected $maxThreads");
$check("Max_used_connections − the sampler ≤ $bound (since FLUSH STATUS before the mixed run)", $maxUsed - 1 <= $bound, "max $maxUsed");
$check('every worker connected after the warm-up', (int) ($points['after_warmup'] ?? -1) === $workers, ($points['after_warmup'] ?? '?') . " connections, $workers workers");
$check('connections after the floods ≤ workers', (int) ($points['after_floods'] ?? 99) <= $workers, ($points['after_floods'] ?? '?') . ' connections');

// ---- status counters around the floods
$status = static fn (string $n): array => array_map('intval', kv("$dir/status-$n.tsv"));
$sub = static function (array $a, array $b): array {
    $d = [];
    foreach ($a as $k => $v) {
        $d[$k] = $v - ($b[$k] ?? 0);
    }
    return $d;
};
$c0 = $status('calib0');
$c1 = $status('calib1');
$c2 = $status('calib2');
$overhead = $sub($c1, $c0);
$check('the cost of one status read is stable (nothing else talks to the server)', $overhead === $sub($c2, $c1) && $overhead !== [],
    json_encode($overhead));
$floods = [];
foreach (['malformed', 'unknown'] as $f) {
    $raw = $sub($status("$f-after"), $status("$f-before"));
    $floods[$f] = ['served' => $phases[$f]['total'], 'wrk_requests' => $runs[$f]['requests'] ?? 0,
        'delta_raw' => $raw, 'delta' => $sub($raw, $overhead)];
}
$mixedDelta = $sub($status('mixed-after'), $status('mixed-before'));
$m = $floods['malformed'];
$mBy = $phases['malformed']['by'];
$check('malformed flood: PHP served it, all 403', $m['served'] > 0 && $mBy === ['garbage 403' => $m['served']], json_encode($mBy));
foreach (['Questions', 'Com_select', 'Com_update', 'Com_insert', 'Com_delete', 'Com_stmt_execute', 'Com_stmt_prepare', 'Connections', 'Handler_read_key', 'Handler_read_rnd_next'] as $v) {
    $check("malformed flood: $v delta 0", ($m['delta'][$v] ?? null) === 0, sprintf('%s over %d requests', $m['delta'][$v] ?? '?', $m['served']));
}
$u = $floods['unknown'];
$uBy = $phases['unknown']['by'];
$check('unknown flood: PHP served it, all 403', $u['served'] > 0 && $uBy === ['unknown 403' => $u['served']], json_encode($uBy));
$check('unknown flood: wrk completed ≤ PHP served ≤ wrk completed + connections',
    $u['wrk_requests'] <= $u['served'] && $u['served'] <= $u['wrk_requests'] + $connections, "wrk {$u['wrk_requests']}, PHP {$u['served']}");
foreach (['Com_select', 'Com_stmt_execute', 'Questions', 'Handler_read_key'] as $v) {
    $check("unknown flood: $v delta = requests PHP served", ($u['delta'][$v] ?? null) === $u['served'], sprintf('%s for %d requests', $u['delta'][$v] ?? '?', $u['served']));
}
foreach (['Com_update', 'Com_insert', 'Com_delete', 'Com_stmt_prepare', 'Connections', 'Handler_read_rnd_next', 'Handler_read_first', 'Select_scan', 'Select_full_join', 'Handler_update', 'Handler_delete'] as $v) {
    $check("unknown flood: $v delta 0", ($u['delta'][$v] ?? null) === 0, sprintf('%s over %d requests', $u['delta'][$v] ?? '?', $u['served']));
}

// ---- EXPLAIN of the lookup SELECT as sent
$explain = [];
foreach (tsv("$dir/explain.tsv") as $r) {
    // token kind, id, select_type, table, type, possible_keys, key, key_len, ref, rows, Extra
    $explain[] = ['token' => $r[0], 'table' => $r[3] ?? '', 'type' => $r[4] ?? '', 'key' => $r[6] ?? '', 'rows' => $r[9] ?? '', 'extra' => $r[10] ?? ''];
}
$tokRows = array_filter($explain, static fn ($e) => $e['table'] === 'tiki_auth_tokens');
$indexed = $tokRows && ! array_filter($tokRows, static fn ($e) => $e['key'] !== 'tiki_auth_tokens_token' || in_array($e['type'], ['ALL', 'index'], true));
$check('EXPLAIN of the lookup SELECT as sent: index tiki_auth_tokens_token, no scan', $indexed,
    implode('; ', array_map(static fn ($e) => "{$e['token']} token: type={$e['type']} key={$e['key']} rows={$e['rows']} {$e['extra']}", $tokRows)) ?: 'no EXPLAIN rows');

// ---- RSS of the workers
$rss = [];
foreach (tsv("$dir/rss.tsv") as [$label, $pid, $kb]) {
    $rss[$label][(int) $pid] = (int) $kb;
}
$pidsWarm = array_keys($rss['warm'] ?? []);
$pidsEnd = array_keys($rss['end'] ?? []);
sort($pidsWarm);
sort($pidsEnd);
$check('the same FPM workers from start to end (none died or was replaced)', $pidsWarm === $pidsEnd && count($pidsEnd) === $workers
    && array_keys($rss['idle'] ?? []) == array_keys($rss['end'] ?? []), 'workers ' . implode(' ', $pidsEnd));
$growth = [];
foreach ($rss['end'] ?? [] as $pid => $kb) {
    $growth[$pid] = $kb - ($rss['warm'][$pid] ?? $kb);
}
$maxGrowth = $growth ? max($growth) : 0;
$perWorker = [];
foreach ($log as $line) {
    $f = preg_split('/\s+/', trim($line));
    if (isset($f[3])) {
        $perWorker[(int) $f[3]] = ($perWorker[(int) $f[3]] ?? 0) + 1;
    }
}
$check("RSS growth of a worker after the warm-up ≤ {$facts['rss_growth_max_kb']} KiB", $maxGrowth <= (int) $facts['rss_growth_max_kb'], "max $maxGrowth KiB");

// ---- logs
$phpErrors = array_values(array_filter(file("$dir/fpm/php-error.log", FILE_IGNORE_NEW_LINES) ?: [],
    static fn ($l) => ! preg_match('/\] tiki-tokens: denied /', $l)));
$check('PHP logged nothing but denials', ! $phpErrors, $phpErrors ? implode(' | ', array_slice($phpErrors, 0, 3)) : 'ok');
$fpmWarn = array_values(array_filter(file("$dir/fpm/php-fpm.log", FILE_IGNORE_NEW_LINES) ?: [],
    static fn ($l) => preg_match('/WARNING|ERROR|ALERT|signal|exited with code [1-9]/', $l) === 1));
$check('php-fpm logged no warning (no worker died)', ! $fpmWarn, $fpmWarn ? implode(' | ', array_slice($fpmWarn, 0, 3)) : 'ok');
$nginxErr = array_values(array_filter(file("$dir/nginx/error.log", FILE_IGNORE_NEW_LINES) ?: [],
    static fn ($l) => preg_match('/\[(error|crit|alert|emerg)\]/', $l) === 1));
$check('nginx logged no error', ! $nginxErr, $nginxErr ? implode(' | ', array_slice($nginxErr, 0, 3)) : 'ok');

// ---- summary
$failed = array_filter($checks, static fn ($c) => ! $c['ok']);
$L = [];
$L[] = sprintf('FPM load test, %s UTC: %d FPM workers (pm=static), nginx %s worker(s), %s; %d cores, load %s; PHP %s, MariaDB %s, opcache %s',
    gmdate('Y-m-d H:i'), $workers, $facts['nginx_workers'], $facts['engine'] . ' table of ' . ($db['rows'][0] ?? '?') . ' rows', (int) $facts['nproc'],
    $facts['loadavg'], $facts['php'], $facts['mariadb'], $facts['opcache']);
$L[] = '';
$L[] = 'wrk runs (client side; latency in ms):';
$L[] = sprintf('  %-10s %8s %6s %9s %7s %7s %7s %8s %6s', 'run', 'requests', 'secs', 'req/s', 'p50', 'p90', 'p99', 'max', 'errors');
foreach ($runs as $name => $r) {
    $l = $r['latency_us'];
    $L[] = sprintf('  %-10s %8d %6.1f %9.1f %7.2f %7.2f %7.2f %8.2f %6d', $name, $r['requests'], $r['duration_s'], $r['rps'],
        $l['p50'] / 1000, $l['p90'] / 1000, $l['p99'] / 1000, $l['max'] / 1000, $r['socket_errors']);
}
$L[] = '';
$L[] = 'responses by kind (status X-Token-Result: count):';
foreach ($runs as $name => $r) {
    if ($name === 'warmup-more') {
        continue;
    }
    foreach ($r['by_kind'] as $kind => $c) {
        $parts = [];
        foreach ($c as $k => $n) {
            $parts[] = "$k: $n";
        }
        $L[] = sprintf('  %-10s %-8s %s', $name, $kind, implode(', ', $parts));
    }
}
$L[] = '';
$L[] = 'server side (FPM access log, mixed run; ms per request in PHP):';
foreach ($serverMs as $kind => $s) {
    $L[] = sprintf('  %-8s %7d requests  p50 %6.2f  p99 %6.2f  max %7.2f', $kind, $s['n'], $s['p50'], $s['p99'], $s['max']);
}
$L[] = '';
$L[] = sprintf('exactly N: token with %d hits, %d connections for %ss during the mixed run: %d grants counted by wrk, %d by FPM; hits left %s; afterwards %s %s',
    $nHits, $facts['nhit_connections'], $facts['nhit_duration'], $nhitGrantsWrk, $nhitGrantsFpm, $nhitLeft, $after[0], $after[1] ?? '');
$L[] = sprintf('mixed run, server status deltas (incl. %d sampler statements): Questions %d, Com_select %d, Com_update %d, Com_delete %d (purges that removed rows), Com_insert %d',
    count($samples), $mixedDelta['Questions'] ?? 0, $mixedDelta['Com_select'] ?? 0, $mixedDelta['Com_update'] ?? 0, $mixedDelta['Com_delete'] ?? 0, $mixedDelta['Com_insert'] ?? 0);
$L[] = sprintf('limited tokens (10^9 hits): %d grants served, %d hits consumed in the database', $limitedGrants, $consumed);
$L[] = sprintf('connections (sampled every 0.2 s, %d samples): user tiki max %d (after warm-up %s, after floods %s); Threads_connected max %d (incl. the sampler); Max_used_connections %d; bound %d × %d = %d',
    count($samples), $maxTiki, $points['after_warmup'] ?? '?', $points['after_floods'] ?? '?', $maxThreads, $maxUsed, $workers, $poolMax, $bound);
$L[] = '';
$L[] = 'floods (status deltas minus the cost of the status read: ' . json_encode($overhead) . '):';
foreach ($floods as $f => $d) {
    $x = $d['delta'];
    $L[] = sprintf('  %-9s wrk %d requests (%.0f req/s), PHP served %d: Questions %d, Com_select %d, Com_stmt_execute %d, Com_update %d, Com_insert %d, Com_delete %d, Handler_read_key %d, Handler_read_next %d, Handler_read_rnd_next %d, Select_scan %d, Connections %d',
        $f, $d['wrk_requests'], $runs[$f]['rps'] ?? 0, $d['served'], $x['Questions'] ?? 0, $x['Com_select'] ?? 0, $x['Com_stmt_execute'] ?? 0, $x['Com_update'] ?? 0,
        $x['Com_insert'] ?? 0, $x['Com_delete'] ?? 0, $x['Handler_read_key'] ?? 0, $x['Handler_read_next'] ?? 0, $x['Handler_read_rnd_next'] ?? 0,
        $x['Select_scan'] ?? 0, $x['Connections'] ?? 0);
}
$L[] = '  EXPLAIN (lookup SELECT as sent): ' . (implode('; ', array_map(static fn ($e) => "{$e['token']} token: {$e['table']} type={$e['type']} key={$e['key']} rows={$e['rows']} {$e['extra']}", $explain)) ?: 'none');
$L[] = '';
$L[] = 'RSS of the FPM workers (KiB) at: idle (started), warm (after the warm-up), after the mixed run, after the malformed flood, end; requests each served:';
$series = [];
foreach ($rss as $label => $byPid) {
    if (preg_match('/^mixed\+(\d+)s:(\d+)$/', (string) $label, $mm)) {
        $series[] = sprintf('%ss %d KiB (%d requests served)', $mm[1], array_sum($byPid), $mm[2]);
    }
}
foreach (array_keys($rss['end'] ?? []) as $pid) {
    $L[] = sprintf('  worker %d: %d, %d, %d, %d, %d; %d requests (+%d KiB from warm to end)', $pid, $rss['idle'][$pid] ?? 0, $rss['warm'][$pid] ?? 0,
        $rss['after_mixed'][$pid] ?? 0, $rss['after_malformed'][$pid] ?? 0, $rss['end'][$pid] ?? 0, $perWorker[$pid] ?? 0, $growth[$pid] ?? 0);
}
$L[] = '  all workers during the mixed run: ' . implode(', ', $series);
$L[] = '';
$L[] = sprintf('checks: %d passed, %d failed', count($checks) - count($failed), count($failed));
foreach ($checks as $c) {
    $L[] = sprintf('  [%s] %s (%s)', $c['ok'] ? 'ok' : 'FAIL', $c['check'], $c['detail']);
}
$text = implode("\n", $L) . "\n";
file_put_contents("$dir/results.txt", $text);
echo $text;

file_put_contents("$dir/results.json", json_encode([
    'facts' => $facts,
    'wrk' => $runs,
    'server_ms' => $serverMs,
    'fpm_log' => array_map(static fn ($t) => ['total' => $t['total'], 'by' => $t['by']], $phases),
    'exactly_n' => ['hits' => $nHits, 'grants_wrk' => $nhitGrantsWrk, 'grants_fpm' => $nhitGrantsFpm, 'hits_left' => $nhitLeft, 'after' => $after],
    'limited' => ['grants' => $limitedGrants, 'consumed' => $consumed],
    'connections' => ['samples' => count($samples), 'max_tiki' => $maxTiki, 'max_threads_connected' => $maxThreads,
        'max_used_connections' => $maxUsed, 'bound' => $bound, 'points' => $points],
    'mixed_status_delta' => $mixedDelta,
    'status_read_overhead' => $overhead,
    'floods' => $floods,
    'explain' => $explain,
    'rss_kb' => $rss,
    'requests_per_worker' => $perWorker,
    'checks' => $checks,
    'passed' => ! $failed,
], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n");
exit($failed ? 1 : 0);
