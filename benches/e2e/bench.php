<?php
// One implementation, one long-running PHP process (like an FPM worker: one connection, reused):
// warm up, then time each call with hrtime, and read the server's counters around the timed
// batch to count what each call cost on the server (statements, index reads, scanned rows, writes),
// and this process's own CPU time (getrusage, user + system) per call: what the client side
// costs, much less sensitive to the machine's load than the latency.
//
//   php [-d extension=/abs/target/tiki_tokens.so] bench.php --dsn=mysql://... --impl=NAME
//       [--iterations=20000] [--budget=8] [--min=20]
//       [--size=N --engine=E --table=tiki24|trunk --round=R (labels only)]
//       [--samples=FILE (write every latency, ns, one a line)]
//       [--server-pid=PID (the server runs on this machine: its CPU time per call is reported)]
//
// Prints one JSON line. Exits non-zero if any timed call gave a wrong answer (a lookup meant to
// be granted was denied, or the reverse): a benchmark of the wrong path is worse than none.
//
// Implementations (see README.md). The tokens are those of the table: 32-character MD5 on Tiki
// 24's, 64-character HMAC on trunk's (signed). `-prefs`: the secret as Tiki's cached preferences
// hold it (inside a Tiki request: $GLOBALS['prefs']['auth_token_secret'] for the drop-in, the
// option preferenceSecret for the native store), read once at start from tiki_preferences as
// Tiki's preference cache is; without `-prefs` the extension reads the secret from
// tiki_preferences itself (in the lookup's SELECT).
//   floor-select            one prepared point SELECT by token (the floor for unlimited hits)
//   floor-select-star       the same as `SELECT * FROM tiki_auth_tokens WHERE token = ?` (issue 11)
//   floor-select-update     that SELECT plus one conditional UPDATE of hits (the floor, limited)
//   ext-unlimited           AuthTokens::getGroups (the drop-in shim on the extension), hits -1
//   ext-limited             the same on tokens with 100,000,000 hits
//   ext-native-unlimited    TikiTokens\Store::lookup (no shim), hits -1
//   ext-native-limited      the same, limited hits
//   ext-unlimited-prefs, ext-limited-prefs, ext-native-unlimited-prefs, ext-native-limited-prefs,
//   ext-unknown-prefs, ext-create-prefs   the same with the secret from Tiki's preferences
//   ext-unknown             getGroups with random hex tokens of the table's length (in no row)
//   ext-malformed           getGroups with wrong-length tokens (must cost no round trip)
//   tiki24-unlimited        Tiki 24's lookup (tiki24_lookup.php), hits -1
//   tiki24-limited          Tiki 24's lookup, limited hits
//   ext-create              AuthTokens::createToken
//   side-by-side            the lookups the goal of issue 11 compares, in ONE process, interleaved
//                           (floor-select-star, floor-select, ext-unlimited, ext-native-unlimited,
//                           and on the signed table the same two with the secret from $prefs;
//                           each with its own connection): cycles of a block of SIDE_BY_SIDE_BLOCK
//                           calls of each member on the same tokens, the order rotating every
//                           cycle, so that every moment of the machine's load falls on all of
//                           them alike, while within a block a connection stays as warm as in a
//                           process of its own (call by call, each call would wake another
//                           server thread: every latency grows by 10-40 µs). One JSON line per
//                           member, named sbs.<implementation>; --iterations counts blocks.
//   tiki24-create           Tiki 24's createToken

declare(strict_types=1);
require __DIR__ . '/lib.php';
require __DIR__ . '/tiki24_lookup.php';

/** The shim's purge interval in the benchmark: one day, so no timed lookup runs the purge. */
const PURGE_INTERVAL = 86400;
/** Calls of one member in a row in the side-by-side run (see the file comment). */
const SIDE_BY_SIDE_BLOCK = 20;

$opt = getopt('', ['dsn:', 'impl:', 'iterations:', 'budget:', 'min:', 'size:', 'engine:', 'table:', 'round:', 'samples:', 'server-pid:']);
$dsn = $opt['dsn'] ?? getenv('TIKI_TOKENS_BENCH_DSN');
$impl = $opt['impl'] ?? '';
$iterations = (int) ($opt['iterations'] ?? 20000);
$budget = (float) ($opt['budget'] ?? 8);
$min = (int) ($opt['min'] ?? 20);
if (! $dsn || $impl === '') {
    fwrite(STDERR, "usage: php bench.php --dsn=mysql://... --impl=NAME [--iterations=N] [--budget=SECONDS]\n");
    exit(2);
}
$extDsn = bench_dsn_with_db($dsn, BENCH_DB);
$observer = bench_pdo($dsn);
$notes = [];

/**
 * Up to $limit benchmark tokens of one kind (tokenId % 100 = $residue, see fill.php), spread over
 * the table and read by primary key (no scan), each as a request would carry it.
 */
function bench_tokens(PDO $db, int $residue, string $where, int $limit = 1000): array
{
    $max = (int) $db->query('SELECT MAX(tokenId) FROM tiki_auth_tokens')->fetchColumn();
    $kinds = intdiv($max, 100);
    $ids = [];
    for ($k = 0; $k < min($limit, $kinds); $k++) {
        $ids[] = 100 * intdiv($k * $kinds, min($limit, $kinds)) + $residue;
    }
    $out = [];
    foreach (array_chunk($ids, 500) as $chunk) {
        $rows = $db->query('SELECT token, entry, parameters FROM tiki_auth_tokens WHERE tokenId IN ('
            . implode(',', $chunk) . ") AND $where ORDER BY tokenId");
        foreach ($rows as $r) {
            // $_GET holds strings: {"fileId":123} arrives as ['fileId' => '123'].
            $params = array_map(fn ($v) => is_scalar($v) ? (string) $v : $v, json_decode($r['parameters'], true));
            $out[] = [$r['token'], $r['entry'], $params];
        }
    }
    if (! $out) {
        throw new RuntimeException("no benchmark rows ($where): run fill.php first");
    }
    return $out;
}

$unlimited = fn () => bench_tokens($observer, 51, 'hits = -1');
$limited = fn () => bench_tokens($observer, 52, 'maxhits = 100000000 AND hits > 0');

function need_extension(): void
{
    if (! class_exists('TikiTokens\Store')) {
        throw new RuntimeException('the extension is not loaded (php -d extension=.../tiki_tokens.so)');
    }
    require_once __DIR__ . '/../../php/AuthTokens.php';
}

function shim(string $extDsn): AuthTokens
{
    need_extension();
    return new AuthTokens($extDsn, ['maxTimeout' => 604800, 'maxHits' => 10, 'purgeInterval' => PURGE_INTERVAL]);
}

/**
 * The signing secret as Tiki's preference cache holds it: read once from tiki_preferences (Tiki
 * loads its preferences once and caches them; no lookup reads the table for it).
 */
function preference_secret(PDO $observer): string
{
    $secret = $observer->query("SELECT value FROM tiki_preferences WHERE name = 'auth_token_secret'")->fetchColumn();
    if (! is_string($secret) || $secret === '') {
        throw new RuntimeException('no auth_token_secret in tiki_preferences: the -prefs implementations need the signed table (fill.php ... trunk)');
    }
    return $secret;
}

// `-prefs`: this process is inside a Tiki request, whose global $prefs holds the secret (the
// drop-in takes it from there); the implementation is otherwise the one without the suffix.
$fromPrefs = str_ends_with($impl, '-prefs');
$secret = null;
if ($fromPrefs && ! str_starts_with($impl, 'ext-')) {
    fwrite(STDERR, "--impl=$impl: only the extension's implementations take their secret from the preferences\n");
    exit(2);
}
if ($fromPrefs) {
    $secret = preference_secret($observer);
    $GLOBALS['prefs'] = ['auth_token_secret' => $secret];
    $impl = substr($impl, 0, -strlen('-prefs'));
    $notes[] = 'secret from $GLOBALS[prefs]';
}

$createdFrom = null; // rows above this tokenId were created by the benchmark and are removed after it
$backlog = null;     // Tiki 24: the first lookups, which still had expired rows to delete

if ($impl === 'side-by-side') {
    side_by_side($opt, $dsn, $extDsn, $observer, $unlimited(), max(1, intdiv($iterations, SIDE_BY_SIDE_BLOCK)), $budget, $min);
    exit(0);
}

/**
 * The side-by-side run (see the file comment): warm-up, then $cycles cycles of a block of calls
 * of every member on the same tokens, the order rotating; one JSON line per member. Server counters are read
 * around the whole batch (so they are the members' average per call). Exits non-zero on a
 * wrong answer.
 */
function side_by_side(array $opt, string $dsn, string $extDsn, PDO $observer, array $set, int $cycles, float $budget, int $min): void
{
    need_extension();
    $n = count($set);
    $members = [];
    foreach (['floor-select-star' => 'SELECT * FROM tiki_auth_tokens WHERE token = ?',
        'floor-select' => 'SELECT tokenId, creation, timeout, hits, token, entry, parameters, `groups`, email, createUser, userPrefix'
            . ' FROM tiki_auth_tokens WHERE token = ?'] as $name => $sql) {
        $select = bench_pdo($dsn, BENCH_DB, false)->prepare($sql);
        $members[$name] = function (array $t) use ($select): bool {
            $select->execute([$t[0]]);
            $row = $select->fetch();
            $select->closeCursor();
            return (bool) $row;
        };
    }
    // The secret from the table: made while this process has no Tiki preferences.
    unset($GLOBALS['prefs']);
    $sources = ['' => null];
    if (strlen($set[0][0]) === 64) {
        $sources['-prefs'] = preference_secret($observer);
    }
    foreach ($sources as $suffix => $secret) {
        if ($secret !== null) {
            $GLOBALS['prefs'] = ['auth_token_secret' => $secret]; // inside a Tiki request
        }
        $auth = shim($extDsn);
        $store = new TikiTokens\Store($extDsn, $secret !== null ? ['preferenceSecret' => $secret] : []);
        $members["ext-unlimited$suffix"] = fn (array $t): bool => is_array($auth->getGroups($t[0], $t[1], $t[2]));
        $members["ext-native-unlimited$suffix"] = fn (array $t): bool => $store->lookup($t[0], $t[1], $t[2]) instanceof TikiTokens\Grant;
    }
    $names = array_keys($members);
    $m = count($names);
    $warm = min(1000, max(3, intdiv($cycles * SIDE_BY_SIDE_BLOCK, 10)));
    for ($k = 0; $k < $warm; $k++) {
        foreach ($members as $name => $op) {
            if (! $op($set[$k % $n])) {
                fwrite(STDERR, "side-by-side: $name: warm-up call $k gave the wrong answer\n");
                exit(1);
            }
        }
    }
    $calibration = bench_counter_calibration($observer);
    $before = bench_counters($observer);
    $serverPid = isset($opt['server-pid']) ? (int) $opt['server-pid'] : null;
    $server0 = bench_server_cpu_ns($serverPid);
    $ns = array_fill_keys($names, []);
    $wrong = array_fill_keys($names, 0);
    $start = hrtime(true);
    $deadline = $start + (int) ($budget * 1e9);
    for ($k = 0; $k < $cycles; $k++) {
        for ($j = 0; $j < $m; $j++) {
            $name = $names[($k + $j) % $m];
            $op = $members[$name];
            for ($b = 0; $b < SIDE_BY_SIDE_BLOCK; $b++) {
                $token = $set[($k * SIDE_BY_SIDE_BLOCK + $b) % $n];
                $t = hrtime(true);
                $ok = $op($token);
                $ns[$name][] = hrtime(true) - $t;
                if (! $ok) {
                    $wrong[$name]++;
                }
            }
        }
        if (($k + 1) * SIDE_BY_SIDE_BLOCK >= $min && hrtime(true) > $deadline) {
            break;
        }
    }
    $elapsed = hrtime(true) - $start;
    $server1 = bench_server_cpu_ns($serverPid);
    $delta = bench_counter_delta($before, bench_counters($observer), $calibration);
    $calls = $m * count($ns[$names[0]]);
    $perOp = array_map(fn ($v) => round($v / $calls, 3), $delta);
    $bad = 0;
    foreach ($names as $name) {
        $samples = $ns[$name];
        sort($samples);
        $count = count($samples);
        $impl = "sbs.$name";
        if (isset($opt['samples'])) {
            file_put_contents(str_replace('side-by-side', $impl, $opt['samples']), implode("\n", $samples) . "\n");
        }
        $sum = array_sum($samples);
        echo json_encode([
            'impl' => $impl,
            'size' => isset($opt['size']) ? (int) $opt['size'] : null,
            'engine' => $opt['engine'] ?? null,
            'table' => $opt['table'] ?? 'tiki24',
            'round' => isset($opt['round']) ? (int) $opt['round'] : 1,
            'n' => $count,
            'elapsed_s' => round($sum / 1e9, 6), // this member's own calls
            'ops_per_s' => round($count / ($sum / 1e9), 1),
            'p50_us' => round(bench_percentile_us($samples, 50), 1),
            'p99_us' => round(bench_percentile_us($samples, 99), 1),
            'mean_us' => round($sum / $count / 1000, 1),
            'cpu_us' => null,
            'server_cpu_us' => null, // the batch's, in the notes: the members' cannot be told apart
            'min_us' => round($samples[0] / 1000, 1),
            'max_us' => round($samples[$count - 1] / 1000, 1),
            'wrong' => $wrong[$name],
            'per_op' => $perOp,
            'delta' => array_map(fn ($v) => $v * $count / $calls, $delta),
            'notes' => "side by side in one process with " . implode(', ', $names) . ', interleaved in blocks of ' . SIDE_BY_SIDE_BLOCK . ' calls;'
                . ' server counters: the whole batch per call' . ($server0 !== null && $server1 !== null
                    ? sprintf('; server CPU %.1f µs per call of the batch', ($server1 - $server0) / 1000 / $calls) : '')
                . sprintf('; %.2f s', $elapsed / 1e9),
            'load1' => round(sys_getloadavg()[0], 2),
        ]), "\n";
        $bad += $wrong[$name];
    }
    if ($bad > 0) {
        fwrite(STDERR, "side-by-side: $bad timed calls gave the wrong answer\n");
        exit(1);
    }
}

// Each implementation: a closure (int $i): bool — true when the call gave the expected answer.
switch ($impl) {
    case 'floor-select':
    case 'floor-select-star':
    case 'floor-select-update':
        $db = bench_pdo($dsn, BENCH_DB, false);
        $select = $db->prepare($impl === 'floor-select-star'
            ? 'SELECT * FROM tiki_auth_tokens WHERE token = ?'
            : 'SELECT tokenId, creation, timeout, hits, token, entry, parameters, `groups`, email, createUser, userPrefix'
            . ' FROM tiki_auth_tokens WHERE token = ?');
        $update = $db->prepare('UPDATE tiki_auth_tokens SET hits = hits - 1 WHERE tokenId = ? AND hits > 0');
        $set = $impl === 'floor-select-update' ? $limited() : $unlimited();
        $n = count($set);
        $withUpdate = $impl === 'floor-select-update';
        $op = function (int $i) use ($select, $update, $set, $n, $withUpdate): bool {
            $select->execute([$set[$i % $n][0]]);
            $row = $select->fetch();
            $select->closeCursor();
            if (! $row) {
                return false;
            }
            if ($withUpdate) {
                $update->execute([$row['tokenId']]);
                return $update->rowCount() === 1;
            }
            return true;
        };
        $notes[] = 'PDO native prepared statements (binary protocol), TCP';
        break;

    case 'ext-unlimited':
    case 'ext-limited':
        $auth = shim($extDsn);
        $set = $impl === 'ext-unlimited' ? $unlimited() : $limited();
        $n = count($set);
        $op = function (int $i) use ($auth, $set, $n): bool {
            [$token, $entry, $params] = $set[$i % $n];
            return is_array($auth->getGroups($token, $entry, $params));
        };
        $notes[] = 'purgeInterval=' . PURGE_INTERVAL;
        break;

    case 'ext-native-unlimited':
    case 'ext-native-limited':
        need_extension();
        $store = new TikiTokens\Store($extDsn, $secret !== null ? ['preferenceSecret' => $secret] : []);
        $set = $impl === 'ext-native-unlimited' ? $unlimited() : $limited();
        $n = count($set);
        $op = function (int $i) use ($store, $set, $n): bool {
            [$token, $entry, $params] = $set[$i % $n];
            return $store->lookup($token, $entry, $params) instanceof TikiTokens\Grant;
        };
        break;

    case 'ext-unknown':
    case 'ext-malformed':
        $auth = shim($extDsn);
        $set = $unlimited();
        $garbage = [];
        $length = strlen($set[0][0]);
        for ($k = 0; $k < 4096; $k++) {
            // Well-formed: random lowercase hex of the table's token length (no row has it).
            // Malformed: a wrong length (31, 33, 40 and 63 hex characters) — a truncated or
            // padded copy-paste.
            $garbage[] = $impl === 'ext-unknown'
                ? bin2hex(random_bytes(intdiv($length, 2)))
                : substr(bin2hex(random_bytes(32)), 0, [31, 33, 40, 63][$k % 4]);
        }
        $n = count($set);
        $op = function (int $i) use ($auth, $set, $n, $garbage): bool {
            [, $entry, $params] = $set[$i % $n];
            return $auth->getGroups($garbage[$i & 4095], $entry, $params) === null;
        };
        $notes[] = 'purgeInterval=' . PURGE_INTERVAL;
        break;

    case 'tiki24-unlimited':
    case 'tiki24-limited':
        $tiki = new Tiki24Tokens(bench_pdo($dsn));
        $set = $impl === 'tiki24-unlimited' ? $unlimited() : $limited();
        $n = count($set);
        $op = function (int $i) use ($tiki, $set, $n): bool {
            [$token, $entry, $params] = $set[$i % $n];
            return is_array($tiki->getGroups($token, $entry, $params));
        };
        // Tiki 24 deletes up to 2000 expired rows before each lookup. Run (untimed here) until a
        // lookup finds none: the timed lookups then show the steady state of a Tiki 24 site (a
        // scan for nothing, twice), and the backlog lookups are reported on their own.
        $backlog = ['lookups' => 0, 'rows_deleted' => 0, 'ns' => []];
        $k = 0;
        do {
            $t = hrtime(true);
            $op($k++);
            $backlog['ns'][] = hrtime(true) - $t;
            $backlog['lookups']++;
            $backlog['rows_deleted'] += $tiki->lastPurged;
        } while ($tiki->lastPurged > 0);
        $notes[] = 'PDO emulated prepares (Tiki\'s TikiDb_Pdo), TCP; steady state after the purge backlog';
        break;

    case 'ext-create':
    case 'tiki24-create':
        $createdFrom = (int) $observer->query('SELECT MAX(tokenId) FROM tiki_auth_tokens')->fetchColumn();
        // A token of the table's kind: 32 characters (MD5) on Tiki 24's, 64 (signed) on trunk's.
        $length = strlen($unlimited()[0][0]);
        if ($impl === 'ext-create') {
            $auth = shim($extDsn);
            $create = fn (int $i) => $auth->createToken('/tiki-index.php', ['page' => "Bench page $i"], ['Registered'], ['timeout' => 3600, 'hits' => 5]);
        } else {
            $tiki = new Tiki24Tokens(bench_pdo($dsn));
            $create = fn (int $i) => $tiki->createToken('/tiki-index.php', ['page' => "Bench page $i"], ['Registered'], ['timeout' => 3600, 'hits' => 5]);
        }
        $op = fn (int $i): bool => (bool) preg_match('/^[0-9a-f]{' . $length . '}$/D', (string) $create($i));
        break;

    default:
        fwrite(STDERR, "unknown --impl=$impl\n");
        exit(2);
}

// Warm-up: connections, statement caches, the shim's first purge, the buffer pool.
$warm = min(1000, max(3, intdiv($iterations, 10)));
$warmDeadline = hrtime(true) + (int) ($budget * 0.2 * 1e9);
for ($i = 0; $i < $warm; $i++) {
    if (! $op($i)) {
        fwrite(STDERR, "$impl: warm-up call $i gave the wrong answer\n");
        exit(1);
    }
    if (hrtime(true) > $warmDeadline && $i >= 2) {
        break;
    }
}

$calibration = bench_counter_calibration($observer);
$before = bench_counters($observer);
$ns = [];
$wrong = 0;
$cpu = fn () => (($u = getrusage())['ru_utime.tv_sec'] + $u['ru_stime.tv_sec']) * 1e6 + $u['ru_utime.tv_usec'] + $u['ru_stime.tv_usec'];
$serverPid = isset($opt['server-pid']) ? (int) $opt['server-pid'] : null;
$server0 = bench_server_cpu_ns($serverPid);
$cpu0 = $cpu();
$start = hrtime(true);
$deadline = $start + (int) ($budget * 1e9);
for ($i = 0; $i < $iterations; $i++) {
    $t = hrtime(true);
    $ok = $op($i + $warm);
    $ns[] = hrtime(true) - $t;
    if (! $ok) {
        $wrong++;
    }
    if ($i + 1 >= $min && $t > $deadline) {
        break;
    }
}
$elapsed = hrtime(true) - $start;
$cpuUs = $cpu() - $cpu0;
$server1 = bench_server_cpu_ns($serverPid);
$after = bench_counters($observer);
$count = count($ns);
$delta = bench_counter_delta($before, $after, $calibration);

if ($createdFrom !== null) {
    $observer->exec("DELETE FROM tiki_auth_tokens WHERE tokenId > $createdFrom");
}

sort($ns);
if (isset($opt['samples'])) {
    // The raw latencies (ns, one a line), so that the report can pool the rounds.
    file_put_contents($opt['samples'], implode("\n", $ns) . "\n");
}
$perOp = [];
foreach ($delta as $k => $v) {
    $perOp[$k] = round($v / $count, 3);
}
$result = [
    'impl' => $opt['impl'],
    'size' => isset($opt['size']) ? (int) $opt['size'] : null,
    'engine' => $opt['engine'] ?? null,
    'table' => $opt['table'] ?? 'tiki24',
    'round' => isset($opt['round']) ? (int) $opt['round'] : 1,
    'n' => $count,
    'elapsed_s' => round($elapsed / 1e9, 6),
    'ops_per_s' => round($count / ($elapsed / 1e9), 1),
    'p50_us' => round(bench_percentile_us($ns, 50), 1),
    'p99_us' => round(bench_percentile_us($ns, 99), 1),
    'mean_us' => round(array_sum($ns) / $count / 1000, 1),
    'cpu_us' => round($cpuUs / $count, 1),
    'server_cpu_us' => $server0 !== null && $server1 !== null ? round(($server1 - $server0) / 1000 / $count, 2) : null,
    'min_us' => round($ns[0] / 1000, 1),
    'max_us' => round($ns[$count - 1] / 1000, 1),
    'wrong' => $wrong,
    'per_op' => $perOp,
    'delta' => $delta,
    'notes' => implode('; ', $notes),
    'load1' => round(sys_getloadavg()[0], 2),
];
if ($backlog !== null) {
    sort($backlog['ns']);
    $result['backlog'] = [
        'lookups' => $backlog['lookups'],
        'rows_deleted' => $backlog['rows_deleted'],
        'p50_us' => round(bench_percentile_us($backlog['ns'], 50), 1),
        'max_us' => round(end($backlog['ns']) / 1000, 1),
    ];
}
echo json_encode($result), "\n";
if ($wrong > 0) {
    fwrite(STDERR, "$impl: $wrong of $count timed calls gave the wrong answer\n");
    exit(1);
}
