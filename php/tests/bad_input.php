<?php
/**
 * Bad input of every PHP type for every argument of the native API and of AuthTokens: a clear
 * exception (TypeError from the engine's argument check, or TikiTokens\Exception) or a denial;
 * never a crash, never a grant. A crash would stop this file before its closing line.
 */
require __DIR__ . '/lib/harness.php';
require __DIR__ . '/../AuthTokens.php';

use TikiTokens\Denial;
use TikiTokens\Grant;
use TikiTokens\InvalidInputException;
use TikiTokens\Store;

const GOOD = 'e2990f7983b7b6c46b3987536aa38d32'; // fixture row 3: tiki-index.php, [], never expires, 10 hits

function nested(int $depth, $leaf = 'x'): array
{
    $a = [$leaf];
    for ($i = 1; $i < $depth; $i++) {
        $a = ['k' => $a];
    }
    return $a;
}

function recursive(): array
{
    $a = ['x' => 1];
    $a['self'] = &$a;
    return $a;
}

/** A shared sub-array repeated at every level: exponential to walk naively. */
function exponential(): array
{
    $a = ['x'];
    for ($i = 0; $i < 40; $i++) {
        $a = [$a, $a];
    }
    return $a;
}

/** Values of every PHP type, with the awkward strings. */
function bad_values(): array
{
    $fh = fopen('php://memory', 'r');
    return [
        'array' => [GOOD],
        'empty array' => [],
        'nested 100' => nested(100),
        'recursive' => recursive(),
        'int' => 42,
        'zero' => 0,
        'negative int' => -1,
        'PHP_INT_MAX' => PHP_INT_MAX,
        'PHP_INT_MIN' => PHP_INT_MIN,
        'float' => 1.5,
        'NAN' => NAN,
        'INF' => INF,
        'null' => null,
        'true' => true,
        'false' => false,
        'object' => new stdClass(),
        'closure' => static function () {
            return 1;
        },
        'resource' => $fh,
        '1 MiB string' => str_repeat('a', 1 << 20),
        '1 MiB hex' => str_repeat('e', 1 << 20),
        'invalid UTF-8' => "\xff\xfe\xc3\x28",
        'NUL bytes' => "e2990f7983b7b6c4\x006b3987536aa38d32",
        'empty string' => '',
        'upper-case token' => strtoupper(GOOD),
        'token + space' => GOOD . ' ',
        'token + newline' => GOOD . "\n",
        '64 hex' => str_repeat('0', 64),
    ];
}

/** What a call did: 'denial', 'grant', 'null', 'ok', or the class of what it threw. */
function outcome(callable $fn): string
{
    try {
        $r = $fn();
    } catch (\TypeError $e) {
        return 'TypeError';
    } catch (\ValueError $e) {
        return 'ValueError';
    } catch (TikiTokens\Exception $e) {
        assert($e->getMessage() !== '', 'an exception with a clear message');
        return get_class($e);
    }
    if ($r instanceof Grant) {
        return 'grant';
    }
    if ($r instanceof Denial) {
        return 'denial:' . $r->reason;
    }
    return $r === null ? 'null' : 'ok';
}

$dsn = fresh_db('trunk');
$store = new Store($dsn, ['maxHits' => 100]);

test('the good token grants (control)', function () use ($store) {
    assert($store->lookup(GOOD, 'tiki-index.php', []) instanceof Grant);
});

test('lookup: a token of every type and shape is a denial', function () use ($store) {
    foreach (bad_values() as $what => $value) {
        $r = outcome(fn () => $store->lookup($value, 'tiki-index.php', []));
        assert(str_starts_with($r, 'denial:'), "token $what: $r");
        if (! is_string($value)) {
            assert($r === 'denial:malformed', "token $what: $r");
        }
    }
});

test('lookup: an entry of every type and shape denies or is a TypeError', function () use ($store) {
    foreach (bad_values() as $what => $value) {
        $r = outcome(fn () => $store->lookup(GOOD, $value, []));
        assert(is_string($value) ? str_starts_with($r, 'denial:') : $r === 'TypeError', "entry $what: $r");
    }
});

test('lookup: params of every type and shape deny or are a TypeError', function () use ($store) {
    foreach (bad_values() as $what => $value) {
        if ($what === 'empty array') {
            continue; // the good params
        }
        $r = outcome(fn () => $store->lookup(GOOD, 'tiki-index.php', $value));
        assert(is_array($value) ? str_starts_with($r, 'denial:') : $r === 'TypeError', "params $what: $r");
        // The same value as a parameter's value, and (for strings and ints) as its name.
        $r = outcome(fn () => $store->lookup(GOOD, 'tiki-index.php', ['p' => $value]));
        assert(str_starts_with($r, 'denial:'), "params[p] $what: $r");
        if (is_string($value) || is_int($value)) {
            $r = outcome(fn () => $store->lookup(GOOD, 'tiki-index.php', [$value => '1']));
            assert(str_starts_with($r, 'denial:'), "params key $what: $r");
        }
    }
    $r = outcome(fn () => $store->lookup(GOOD, 'tiki-index.php', nested(100)));
    assert($r === 'denial:malformed', $r);
    $r = outcome(fn () => $store->lookup(GOOD, 'tiki-index.php', recursive()));
    assert($r === 'denial:malformed', $r);
    $r = outcome(fn () => $store->lookup(GOOD, 'tiki-index.php', exponential()));
    assert($r === 'denial:malformed', $r);
    $r = outcome(fn () => $store->lookup(GOOD, 'tiki-index.php', ['o' => new ArrayObject([])]));
    assert($r === 'denial:malformed', $r);
});

test('no bad lookup consumed a hit', function () use ($store, $dsn) {
    assert(sql_one($dsn, 'SELECT hits FROM tiki_auth_tokens WHERE tokenId = 3') === '9', 'only the control used one');
});

test('create: every bad argument is a clear exception', function () use ($store) {
    foreach (bad_values() as $what => $value) {
        $r = outcome(fn () => $store->create($value, [], ['G']));
        assert(is_string($value) ? in_array($r, ['ok', InvalidInputException::class], true) : $r === 'TypeError', "entry $what: $r");
        $r = outcome(fn () => $store->create('/p.php', ['p' => $value], ['G']));
        // Only what a request can carry back: strings and ints (a stored JSON int matches its
        // decimal string), non-empty arrays. Floats, booleans, null and empty arrays never come
        // back from a URL, so binding them is refused.
        $fine = is_string($value) && ! str_contains($what, 'MiB') && $what !== 'invalid UTF-8' || is_int($value) || $what === 'array';
        assert($r === ($fine ? 'ok' : InvalidInputException::class), "params[p] $what: $r");
        $r = outcome(fn () => $store->create('/p.php', [], [$value]));
        $fine = is_string($value) && ! str_contains($what, 'MiB') && $what !== 'invalid UTF-8';
        assert($r === ($fine ? 'ok' : InvalidInputException::class), "groups[] $what: $r");
        if (! is_array($value)) {
            assert(outcome(fn () => $store->create('/p.php', $value, ['G'])) === 'TypeError', "params $what");
            assert(outcome(fn () => $store->create('/p.php', [], $value)) === 'TypeError', "groups $what");
            assert(outcome(fn () => $store->create('/p.php', [], ['G'], $value)) === 'TypeError', "options $what");
        }
        foreach (['timeout', 'hits', 'email', 'createUser', 'userPrefix', 'user', 'data'] as $option) {
            $r = outcome(fn () => $store->create('/p.php', [], ['G'], [$option => $value]));
            assert(in_array($r, ['ok', InvalidInputException::class], true), "option $option = $what: $r");
        }
    }
    assert(outcome(fn () => $store->create('/p.php', nested(100), ['G'])) === InvalidInputException::class);
    assert(outcome(fn () => $store->create('/p.php', recursive(), ['G'])) === InvalidInputException::class);
    assert(outcome(fn () => $store->create('/p.php', exponential(), ['G'])) === InvalidInputException::class);
    assert(outcome(fn () => $store->create('/p.php', ['f' => NAN], ['G'])) === InvalidInputException::class);
    assert(outcome(fn () => $store->create('/p.php', [], [['nested']])) === InvalidInputException::class);
    assert(outcome(fn () => $store->create('/p.php', [], ['G'], ['data' => "\xff"])) === InvalidInputException::class);
    assert(outcome(fn () => $store->create('/p.php', [], ['G'], ['data' => ["\xff"]])) === InvalidInputException::class);
});

test('create: what is stored is looked up byte for byte', function () use ($store) {
    $entry = "/dir/\x01odd name.php";
    $params = ['nul' => "a\0b", 'uni' => "é€😀", 'n' => ['0' => '', '1' => '0'], 'sp_ace' => 'x'];
    $made = $store->create($entry, $params, ['G']);
    assert($store->lookup($made['token'], $entry, $params) instanceof Grant);
    $r = outcome(fn () => $store->lookup($made['token'], $entry, ['nul' => 'a'] + $params));
    assert($r === 'denial:params_mismatch', $r);
    // Params no request can carry (PHP turns a space in a name into `_`) are refused.
    $r = outcome(fn () => $store->create($entry, ['sp ace' => 'x'], ['G']));
    assert($r === InvalidInputException::class, $r);
});

test('Tiki 24: input too wide for its column is refused, never truncated', function () {
    $dsn = fresh_db('tiki24');
    $store = new Store($dsn);
    $r = outcome(fn () => $store->create('/' . str_repeat('e', 60) . '.php', [], ['G']));
    assert($r === InvalidInputException::class, $r);
    $r = outcome(fn () => $store->create('/x.php', ['p' => str_repeat('v', 300)], ['G']));
    assert($r === InvalidInputException::class, $r);
    assert(count($store->list()) === 3, 'nothing was inserted');
});

test('get, delete, purge, purgeIfDue, rotateSecret, includeToken: bad arguments', function () use ($store) {
    foreach (bad_values() as $what => $value) {
        $r = outcome(fn () => $store->get($value));
        assert(is_string($value) ? $r === 'null' : $r === 'TypeError', "get $what: $r");
        $r = outcome(fn () => $store->delete($value));
        assert(is_int($value) ? $r === 'null' : $r === 'TypeError', "delete $what: $r");
        $r = outcome(fn () => $store->purge($value));
        assert(is_int($value) ? in_array($r, ['ok', InvalidInputException::class], true) : $r === 'TypeError', "purge $what: $r");
        $r = outcome(fn () => $store->purgeIfDue($value));
        assert(is_int($value) || $value === null ? in_array($r, ['ok', 'null', InvalidInputException::class], true) : $r === 'TypeError', "purgeIfDue $what: $r");
        if (! is_bool($value)) {
            assert(outcome(fn () => $store->rotateSecret($value)) === 'TypeError', "rotateSecret $what");
        }
        $r = outcome(fn () => $store->includeToken($value));
        assert(is_string($value) ? in_array($r, ['ok', InvalidInputException::class], true) : $r === 'TypeError', "includeToken $what: $r");
        $r = outcome(fn () => $store->includeToken('http://x/y.php', [$value]));
        assert(in_array($r, ['ok', InvalidInputException::class], true), "includeToken groups $what: $r");
    }
    assert(outcome(fn () => $store->delete(-1)) === 'null');
    assert(outcome(fn () => $store->purge(-1)) === InvalidInputException::class);
});

test('constructor: bad DSN and options of every type', function () use ($dsn) {
    foreach (bad_values() as $what => $value) {
        $r = outcome(fn () => new Store($value));
        assert(is_string($value) ? $r === TikiTokens\ConfigException::class : ($value === null ? $r === 'ok' : $r === 'TypeError'), "dsn $what: $r");
        foreach (['secret', 'maxTimeout', 'maxHits', 'connectTimeout', 'ioTimeout', 'forceLegacy'] as $option) {
            $r = outcome(fn () => new Store($dsn, [$option => $value]));
            assert(in_array($r, ['ok', InvalidInputException::class], true), "option $option = $what: $r");
        }
        if (! is_array($value) && $value !== null) {
            assert(outcome(fn () => new Store($dsn, $value)) === 'TypeError', "options $what");
        }
    }
});

test('canonical_url and parse_query: any string', function () {
    foreach (bad_values() as $what => $value) {
        $r = outcome(fn () => TikiTokens\canonical_url($value));
        assert(is_string($value) ? in_array($r, ['ok', InvalidInputException::class], true) : $r === 'TypeError', "canonical_url $what: $r");
        $r = outcome(fn () => TikiTokens\parse_query($value));
        assert(is_string($value) ? $r === 'ok' : $r === 'TypeError', "parse_query $what: $r");
    }
    $many = str_repeat('a[]=1&', 200000);
    parse_str($many, $expected);
    assert(TikiTokens\parse_query($many) === $expected);
    $deep = str_repeat('[x]', 100);
    parse_str("a$deep=1&b=2", $expected);
    assert(TikiTokens\parse_query("a$deep=1&b=2") === $expected);
});

test('AuthTokens::getGroups: never throws, never grants on bad input', function () use ($dsn) {
    $lib = new AuthTokens($dsn, ['maxHits' => 100, 'purgeInterval' => 3600]);
    foreach (bad_values() as $what => $value) {
        foreach ([[$value, 'tiki-index.php', []], [GOOD, $value, []], [GOOD, 'tiki-index.php', $value]] as $i => $args) {
            if ($what === 'empty array' && $i === 2) {
                continue;
            }
            $groups = $lib->getGroups(...$args);
            assert($groups === null && $lib->ok === false && is_string($lib->lastDenial), "argument $i = $what");
        }
        assert($lib->getToken($value) === null || $value === GOOD, "getToken $what");
        assert($lib->getActiveToken($value) === null, "getActiveToken $what");
    }
});

done();
