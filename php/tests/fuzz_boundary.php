<?php
/**
 * The PHP boundary, fuzzed: every public method of TikiTokens\Store, the free functions and
 * every public method of AuthTokens, called with generated PHP values of every type (strings of
 * any bytes with NUL and invalid UTF-8, 1 MiB strings, ints at the limits, floats with NAN/INF,
 * bools, null, arrays with int and string keys nested up to 200 deep, objects, the extension's
 * own objects) from a seeded PRNG, through real PHP against the real server (a fresh trunk table
 * with minted tokens).
 *
 * Checked on every call: the PHP process does not crash (the closing line is printed); only
 * TypeError (ArgumentCountError included), ValueError or TikiTokens\Exception is thrown (plus,
 * from AuthTokens' own PHP casts, the engine's "could not be converted" Error that Tiki's class
 * throws too); every Grant (and every groups array from AuthTokens::getGroups) comes from a
 * (token, entry, params) triple that was minted; no warning or notice shows a secret.
 *
 * TIKI_TOKENS_FUZZ_SEED sets the seed (default 20261129), TIKI_TOKENS_FUZZ_SECONDS the budget
 * (default 30). A failure prints the seed and the call number to replay it.
 */
require __DIR__ . '/lib/harness.php';
require __DIR__ . '/../AuthTokens.php';

use TikiTokens\Denial;
use TikiTokens\Grant;
use TikiTokens\Store;

const SECRET = 'test-auth-token-secret';

$seed = (int) (getenv('TIKI_TOKENS_FUZZ_SEED') ?: 20261129);
$budget = (float) (getenv('TIKI_TOKENS_FUZZ_SECONDS') ?: 30);
mt_srand($seed);
echo "seed $seed, budget {$budget}s\n";

$dsn = fresh_db('trunk');            // the minted tokens live here
$victim = fresh_db('trunk');         // destructive methods (rotate, revoke, delete, purge) go here
$store = new Store($dsn, ['maxHits' => 1000, 'maxTimeout' => 86400 * 365]);
$victimStore = new Store($victim, ['maxHits' => 1000]);
$lib = new AuthTokens($dsn, ['maxHits' => 1000, 'maxTimeout' => 86400 * 365, 'purgeInterval' => 3600]);
$victimLib = new AuthTokens($victim, ['purgeInterval' => 0]);

$warnings = [];
set_error_handler(static function (int $no, string $msg) use (&$warnings) {
    $warnings[] = $msg;
    return true;
});

/** Params normalised as the match rule sees them: keys sorted, ints as their decimal string. */
function norm($v)
{
    if (is_int($v)) {
        return (string) $v;
    }
    if (! is_array($v)) {
        return $v;
    }
    $out = [];
    foreach ($v as $k => $x) {
        $out[(string) $k] = norm($x);
    }
    ksort($out, SORT_STRING);
    return $out;
}

// Minted triples: token => [entry, normalised params]. Unlimited hits so they keep granting.
$minted = [];
$mintedList = [];
$mint = static function (string $entry, array $params) use ($store, &$minted, &$mintedList) {
    $made = $store->create($entry, $params, ['Registered', 'G' . count($mintedList)], ['hits' => -1, 'timeout' => -1]);
    $minted[$made['token']] = [$entry, norm($params)];
    $mintedList[] = [$made['token'], $entry, $params];
};
$mint('tiki-index.php', []);
$mint('tiki-index.php', ['page' => 'HomePage']);
$mint('/tiki-download_file.php', ['fileId' => 12, 'display' => 'y']);
$mint("/odd/\x01name é.php", ['a' => ['x' => '1', 'y' => ['z' => '2']], '0' => 'zero', 'nul' => "a\0b"]);
$mint('tiki-list.php', ['list' => ['1', '2', '3']]);
// The fixture rows (legacy MD5 tokens, limited hits) may grant too.
foreach (sql($dsn, 'SELECT token, entry, parameters FROM tiki_auth_tokens WHERE tokenId <= 3') as $row) {
    $params = json_decode((string) $row['parameters'], true);
    $minted[$row['token']] = [$row['entry'], norm(is_array($params) ? $params : [])];
    $mintedList[] = [$row['token'], $row['entry'], is_array($params) ? $params : []];
}

$mib = str_repeat('a', 1 << 20);
$mibHex = str_repeat('e', 1 << 20);

function rnd(int $n): int
{
    return mt_rand(0, $n - 1);
}

function rbytes(int $len): string
{
    $s = '';
    for ($i = 0; $i < $len; $i++) {
        $s .= chr(mt_rand(0, 255));
    }
    return $s;
}

function deep(int $depth, $leaf, bool $intKeys): array
{
    $a = [$leaf];
    for ($i = 1; $i < $depth; $i++) {
        $a = $intKeys ? [$a] : ['k' => $a];
    }
    return $a;
}

/** A generated value of any type; $d limits nesting of random arrays. */
function gen(int $d = 0)
{
    global $mib, $mibHex, $mintedList, $store;
    switch (rnd(16)) {
        case 0: return rbytes(rnd(40));
        case 1: return ['', "\0", "\xff\xfe", "\xc3\x28", 'TOKEN', 'tiki-index.php', '/tiki-index.php', 'a[b]', 'sp ace', 'do.t', "é€😀", 'http://h/tiki-index.php?page=HomePage'][rnd(12)];
        case 2: return rnd(8) === 0 ? [$mib, $mibHex, "x\0" . $mib][rnd(3)] : bin2hex(rbytes(rnd(2) ? 16 : 32));
        case 3: return [PHP_INT_MAX, PHP_INT_MIN, 0, -1, 1, 2 ** 31, -(2 ** 31), 4294967296, mt_rand()][rnd(9)];
        case 4: return [NAN, INF, -INF, -0.0, 0.5, 1e308, PHP_FLOAT_EPSILON, 3.0][rnd(8)];
        case 5: return (bool) rnd(2);
        case 6: return null;
        case 7:
        case 8:
            if ($d > 3) {
                return rbytes(3);
            }
            $a = [];
            $n = rnd(5);
            for ($i = 0; $i < $n; $i++) {
                $k = rnd(3) === 0 ? [PHP_INT_MAX, PHP_INT_MIN, -1, 0, rnd(10)][rnd(5)] : [rbytes(rnd(6)), 'TOKEN', 'page', 'a b', 'x.y', ''][rnd(6)];
                if (rnd(4) === 0) {
                    try {
                        $a[] = gen($d + 1);
                    } catch (\Error $e) {
                        // next element after PHP_INT_MAX: keep the array as it is
                    }
                } else {
                    $a[$k] = gen($d + 1);
                }
            }
            return $a;
        case 9: return deep(1 + rnd(200), rnd(2) ? 'x' : gen(4), (bool) rnd(2));
        case 10:
            return [new stdClass(), new ArrayObject([1, 2]), static fn () => 1, new DateTime('@0'),
                $store, $store->lookup('x', 'y', []), new Exception('e'), (object) ['a' => 'b']][rnd(8)];
        case 11:
            $m = $mintedList[rnd(count($mintedList))];
            return [$m[0], $m[1], $m[2], strtoupper($m[0]), $m[0] . "\0", substr($m[0], 1)][rnd(6)];
        case 12:
            $a = ['x' => 1];
            $a['self'] = &$a;
            return $a;
        case 13: return (string) mt_rand(-1000, 1000000);
        case 14: return ['timeout' => gen($d + 1), 'hits' => gen($d + 1), 'email' => gen($d + 1)][['timeout', 'hits', 'email'][rnd(3)]];
        default:
            $m = $mintedList[rnd(count($mintedList))];
            return $m[2];
    }
}

/** Arguments for one call: mostly the right count, sometimes too few or too many. */
function args(int $n): array
{
    $count = rnd(6) === 0 ? rnd($n + 3) : $n;
    $a = [];
    for ($i = 0; $i < $count; $i++) {
        $a[] = gen();
    }
    return $a;
}

/** A lookup triple: a minted one as is, or one part of it replaced or mutated. */
function lookup_args(): array
{
    global $mintedList;
    [$token, $entry, $params] = $mintedList[rnd(count($mintedList))];
    switch (rnd(7)) {
        case 0: break;                         // exact: must grant
        case 1: $token = gen(); break;
        case 2: $entry = gen(); break;
        case 3: $params = gen(); break;
        case 4: $params['TOKEN'] = gen(); break; // TOKEN in $_GET is ignored
        case 5: $params[array_rand([0 => 1, 'page' => 1, 'x' => 1])] = gen(); break;
        default: [$token, $entry, $params] = [gen(), gen(), gen()];
    }
    return [$token, $entry, $params];
}

$methods = [
    // [object, method, arity, destructive]
    ['store', 'lookup', 3], ['store', 'lookupRequest', 3], ['store', 'create', 4], ['store', 'includeToken', 3], ['store', 'get', 1],
    ['store', 'list', 0], ['store', 'delete', 1], ['store', 'purge', 1], ['store', 'purgeIfDue', 2],
    ['store', 'revokeAll', 0], ['store', 'rotateSecret', 1], ['store', 'migrate', 0],
    ['store', 'schemeInfo', 0], ['store', 'connectionState', 0], ['store', '__construct', 2],
    ['store', 'edit', 2], ['store', 'reissue', 2], ['lib', 'editToken', 2],
    ['fn', 'TikiTokens\canonical_url', 1], ['fn', 'TikiTokens\parse_query', 1],
    ['lib', 'getGroups', 3], ['lib', 'createToken', 5], ['lib', 'includeToken', 9], ['lib', 'getToken', 1],
    ['lib', 'getActiveToken', 1], ['lib', 'getTokens', 0], ['lib', 'getTokenFromUrl', 1],
    ['lib', 'deleteToken', 1], ['lib', 'deleteExpired', 0], ['lib', 'rotateSigningSecret', 1],
    ['lib', 'revokeAllTokens', 0], ['lib', 'getStore', 0], ['lib', '__construct', 3], ['lib', 'build', 1],
];
$destructive = ['delete', 'purge', 'purgeIfDue', 'revokeAll', 'rotateSecret', 'migrate', 'deleteToken',
    'deleteExpired', 'rotateSigningSecret', 'revokeAllTokens', 'edit', 'reissue', 'editToken'];

$calls = 0;
$outcomes = [];
$grants = 0;
$failures = [];
$start = microtime(true);

/** Checks that a granted (token, entry, params) was minted. */
function check_grant($token, $entry, $params, string $where): ?string
{
    global $minted;
    if (! is_string($token) || ! isset($minted[$token])) {
        return "$where: granted an unminted token";
    }
    [$e, $p] = $minted[$token];
    if (is_array($params)) {
        unset($params['TOKEN']);
    }
    if ($entry !== $e || norm($params) !== $p) {
        return "$where: granted " . json_encode([$entry, $params], JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE)
            . ' for a token minted for ' . json_encode([$e, $p], JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);
    }
    return null;
}

test('fuzzed calls through the PHP boundary', function () use (
    $methods, $destructive, $store, $victimStore, $lib, $victimLib, $dsn, $victim, $seed, $budget,
    &$calls, &$outcomes, &$grants, &$failures, &$warnings, $start
) {
    while (microtime(true) - $start < $budget && $calls < 200000) {
        [$kind, $method, $arity] = $methods[rnd(count($methods))];
        $isDestructive = in_array($method, $destructive, true);
        if (in_array($method, ['lookup', 'lookupRequest', 'getGroups'], true) && rnd(4) !== 0) {
            $args = lookup_args();
        } else {
            $args = args($arity);
        }
        $calls++;
        $where = "seed $seed call $calls $kind::$method";
        try {
            if ($kind === 'fn') {
                $r = $method(...$args);
            } elseif ($kind === 'store') {
                $target = $isDestructive ? $victimStore : $store;
                $r = $method === '__construct'
                    ? new Store(...(rnd(2) ? $args : [rnd(2) ? $dsn : $victim, ...array_slice($args, 1)]))
                    : $target->$method(...$args);
            } else {
                $target = $isDestructive ? $victimLib : $lib;
                if ($method === '__construct') {
                    $r = new AuthTokens(...(rnd(2) ? $args : [$victim, ...array_slice($args, 1)]));
                } elseif ($method === 'build') {
                    $r = AuthTokens::build(...$args);
                } else {
                    $r = $target->$method(...$args);
                }
            }
            $outcome = is_object($r) ? get_class($r) : gettype($r);
            if ($r instanceof Grant) {
                $grants++;
                if ($msg = check_grant($args[0] ?? null, $args[1] ?? null, $args[2] ?? [], $where)) {
                    $failures[] = $msg;
                }
            } elseif ($r instanceof Denial) {
                $outcome .= ':' . $r->reason;
                if (in_array($r->reason, ['database_error', 'internal_error'], true)) {
                    $failures[] = "$where: denial {$r->reason}: {$r->detail}";
                }
            } elseif ($kind === 'lib' && $method === 'getGroups' && $r !== null) {
                $grants++;
                if ($msg = check_grant($args[0] ?? null, $args[1] ?? null, $args[2] ?? null, $where)) {
                    $failures[] = $msg;
                }
            }
        } catch (\TypeError | \ValueError | TikiTokens\Exception $e) {
            $outcome = get_class($e);
            if ($e instanceof TikiTokens\Exception && $e->getMessage() === '') {
                $failures[] = "$where: " . get_class($e) . ' without a message';
            }
            if ($e instanceof TikiTokens\DatabaseException && ! $isDestructive && $method !== '__construct' && $method !== 'build') {
                // The shared server is up: a database error here is a bug (unless the DSN was fuzzed).
                $failures[] = "$where: DatabaseException: " . $e->getMessage();
            }
        } catch (\Error $e) {
            // AuthTokens' own (string)/(int) casts of an object: the engine's Error, as Tiki's class.
            $outcome = get_class($e);
            if ($kind !== 'lib' || get_class($e) !== 'Error' || ! str_contains($e->getMessage(), 'could not be converted to')) {
                $failures[] = "$where: unexpected " . get_class($e) . ': ' . $e->getMessage();
            }
        } catch (\Throwable $e) {
            $outcome = get_class($e);
            $failures[] = "$where: unexpected " . get_class($e) . ': ' . $e->getMessage();
        }
        $outcomes[$outcome] = ($outcomes[$outcome] ?? 0) + 1;
        if (count($failures) > 20) {
            break;
        }
    }
    ksort($outcomes);
    foreach ($outcomes as $o => $n) {
        echo "  $o: $n\n";
    }
    printf("fuzz: %d calls in %.1fs, %d grants checked, %d warnings\n", $calls, microtime(true) - $start, $grants, count($warnings));
    assert(! $failures, implode("\n", array_slice($failures, 0, 20)));
    assert($calls >= 1000, "only $calls calls");
    assert($grants > 0, 'no call granted: the exact triples are not reached');
});

test('regression: an exception message quoting a NUL byte keeps its class', function () use ($store, $lib) {
    // The message quotes the parameter path; a NUL in it made ext-php-rs throw a generic \Error
    // ("cannot throw TikiTokens\InvalidInputException: string contains a NUL byte").
    $e = throws(TikiTokens\InvalidInputException::class, fn () => $store->create('/p.php', ["a\0b" => 1.5], ['G']));
    assert(str_contains($e->getMessage(), 'a\\0b'), $e->getMessage());
    // What the fuzzer found: an object as AuthTokens' $data ((array) gives "\0Class\0prop" keys).
    throws(TikiTokens\InvalidInputException::class, fn () => $lib->includeToken('http://h/x.php', ['G'], '', 0, 0, false, 'g', new Exception('e')));
    // AuthTokens::build() with prefs that are not an array: a TypeError (an Error before).
    throws(\TypeError::class, fn () => AuthTokens::build(new stdClass()));
});

test('odd object life cycles: unserialize, clone, no constructor, subclass, construct again', function () use ($dsn, $store) {
    foreach (['Store', 'Grant', 'Denial'] as $class) {
        $name = "TikiTokens\\$class";
        throws(\Exception::class, fn () => unserialize('O:' . strlen($name) . ':"' . $name . '":0:{}'), 'not allowed');
        throws(\Exception::class, fn () => serialize($class === 'Store' ? $store : $store->lookup('x', 'y', [])), 'not allowed');
    }
    throws(\Error::class, fn () => clone $store, 'uncloneable');
    $bare = (new ReflectionClass(Store::class))->newInstanceWithoutConstructor();
    throws(\Exception::class, fn () => $bare->lookup('x', 'y', []));
    throws(\Exception::class, fn () => $bare->list());
    throws(\Exception::class, fn () => new Grant());
    throws(\Exception::class, fn () => new TikiTokens\DatabaseException());
    $sub = new class ($dsn) extends Store {
        public $extra = 1;
    };
    assert(count($sub->list()) === count($store->list()));
    // Calling __construct() again re-points the object, as it does for a PHP class: allowed.
    $again = new Store($dsn);
    $again->__construct('mysql://x@h/other', ['connectTimeout' => 1]);
    assert($again->lookup('x', 'y', []) instanceof Denial);
});

test('no warning or notice shows a secret; the minted tokens still grant', function () use (&$warnings, $store, $mintedList, $dsn) {
    restore_error_handler();
    foreach ($warnings as $w) {
        assert(! str_contains($w, SECRET), "a warning shows the secret: $w");
    }
    assert(stored_secret($dsn) === SECRET, 'the main database kept its secret');
    foreach (array_slice($mintedList, 0, 5) as [$token, $entry, $params]) {
        assert($store->lookup($token, $entry, $params) instanceof Grant, "minted $entry still grants");
    }
});

done();
