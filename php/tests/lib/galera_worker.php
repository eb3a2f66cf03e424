<?php
/**
 * One PHP client of the Galera cluster test (tests/galera.rs) and probe (scripts/galera_probe.sh):
 * a long-running process with one TikiTokens\Store, driven by one command per line on stdin,
 * answering with JSON lines on stdout. Times are CLOCK_MONOTONIC microseconds (hrtime), the
 * clock the Rust test reads too, so that the lookups of every worker and the test's own actions
 * (a DELETE, a kill -9) are on one time line.
 *
 *   php -n -d extension=… galera_worker.php DSN IO_TIMEOUT CONNECT_TIMEOUT
 *
 * First line: {"ready":true} or {"ready":false,"error":CLASS,"message":TEXT} when the Store
 * cannot be made (a DSN it refuses); the worker then answers every command with that error.
 *
 *   now                       → {"now":US}
 *   create HITS               → {"created":TOKEN,"tokenId":ID} | {"error":CLASS,"message":TEXT}
 *   run TOKEN START STOP K [PACE]
 *                             → waits until START (µs), then looks TOKEN up on tiki-index.php
 *                               in a loop until STOP (µs), or until K `exhausted` denials when
 *                               K > 0, starting lookups at most every PACE µs (default 0: one
 *                               right after the other; a dead node's instant denials would
 *                               otherwise flood two cores); one line per lookup:
 *                                 {"t0":US,"t1":US,"g":1,"left":N}                  a grant
 *                                 {"t0":US,"t1":US,"d":REASON[,"detail":TEXT]}     a denial
 *                               (detail for every reason but exhausted), then {"done":COUNT}
 *   bench TOKEN COUNT         → COUNT lookups one after the other (after 50 not counted, to warm
 *                               the connection), {"n":COUNT,"grants":G,"p50_us":…,"p90_us":…,
 *                               "p99_us":…,"mean_us":…}
 *   quit
 */
$store = null;
$failure = null;
try {
    $store = new TikiTokens\Store($argv[1], [
        'ioTimeout' => (float) $argv[2],
        'connectTimeout' => (float) $argv[3],
        'maxHits' => -1,
        'causalReads' => $argv[4] ?? 'auto',
    ]);
} catch (TikiTokens\Exception $e) {
    $failure = ['error' => get_class($e), 'message' => $e->getMessage()];
}

function say(array $line): void
{
    fwrite(STDOUT, json_encode($line, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE) . "\n");
}

function now_us(): int
{
    return intdiv(hrtime(true), 1000);
}

/** One lookup, as its JSON line. */
function lookup_line(TikiTokens\Store $store, string $token): array
{
    $t0 = now_us();
    $r = $store->lookup($token, 'tiki-index.php', []);
    $t1 = now_us();
    if ($r instanceof TikiTokens\Grant) {
        return ['t0' => $t0, 't1' => $t1, 'g' => 1, 'left' => $r->hitsLeft];
    }
    $line = ['t0' => $t0, 't1' => $t1, 'd' => $r->reason];
    if ($r->reason !== 'exhausted') {
        $line['detail'] = $r->detail;
    }
    return $line;
}

function run(TikiTokens\Store $store, string $token, int $start, int $stop, int $maxExhausted, int $pace): void
{
    while (($wait = $start - now_us()) > 0) {
        usleep(min($wait, 100000));
    }
    $count = 0;
    $exhausted = 0;
    $next = $start;
    while (now_us() < $stop) {
        if ($pace > 0) {
            if (($wait = $next - now_us()) > 0) {
                usleep($wait);
            }
            $next = max($next + $pace, now_us());
        }
        $line = lookup_line($store, $token);
        say($line);
        $count++;
        if (($line['d'] ?? '') === 'exhausted' && $maxExhausted > 0 && ++$exhausted >= $maxExhausted) {
            break;
        }
    }
    say(['done' => $count]);
}

function bench(TikiTokens\Store $store, string $token, int $count): void
{
    for ($i = 0; $i < 50; $i++) {
        $store->lookup($token, 'tiki-index.php', []);
    }
    $times = [];
    $grants = 0;
    for ($i = 0; $i < $count; $i++) {
        $t0 = hrtime(true);
        $r = $store->lookup($token, 'tiki-index.php', []);
        $times[] = (hrtime(true) - $t0) / 1000;
        $grants += $r instanceof TikiTokens\Grant ? 1 : 0;
    }
    sort($times);
    $at = static fn (float $q) => round($times[min($count - 1, (int) floor($q * $count))], 1);
    say([
        'n' => $count,
        'grants' => $grants,
        'p50_us' => $at(0.5),
        'p90_us' => $at(0.9),
        'p99_us' => $at(0.99),
        'mean_us' => round(array_sum($times) / $count, 1),
    ]);
}

say($failure === null ? ['ready' => true] : ['ready' => false] + $failure);
while (($input = fgets(STDIN)) !== false) {
    $w = explode(' ', trim($input));
    if ($w[0] === 'quit') {
        break;
    }
    if ($w[0] === 'now') {
        say(['now' => now_us()]);
        continue;
    }
    if ($store === null) {
        say($w[0] === 'run' ? ['done' => 0] + $failure : $failure);
        continue;
    }
    try {
        switch ($w[0]) {
            case 'create':
                $made = $store->create('tiki-index.php', [], ['Registered'], ['hits' => (int) $w[1], 'timeout' => -1]);
                say(['created' => $made['token'], 'tokenId' => $made['tokenId']]);
                break;
            case 'run':
                run($store, $w[1], (int) $w[2], (int) $w[3], (int) $w[4], (int) ($w[5] ?? 0));
                break;
            case 'bench':
                bench($store, $w[1], (int) $w[2]);
                break;
            default:
                say(['error' => 'usage', 'message' => "unknown command {$w[0]}"]);
        }
    } catch (TikiTokens\Exception $e) {
        say(['error' => get_class($e), 'message' => $e->getMessage()]);
    }
}
