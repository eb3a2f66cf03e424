<?php
/**
 * Secrets never leave the extension: the signing secret (stored in tiki_preferences, given as an
 * option, or created by rotateSecret()/migrate()) and the DSN password never appear in phpinfo(),
 * exception messages and traces, denials, PHP warnings/notices/logs, nor in any dump
 * (var_dump, print_r, var_export, debug_zval_dump, json_encode, serialize, casts, reflection)
 * of Store, Grant, Denial and AuthTokens (whose private $store is dumped too).
 *
 * Everything this file sees goes through see(); the last case checks all of it, plus PHP's
 * error_log file. tests/php_api.rs also checks this run's stdout and stderr.
 */
require __DIR__ . '/lib/harness.php';
require __DIR__ . '/../AuthTokens.php';

use TikiTokens\Denial;
use TikiTokens\Grant;
use TikiTokens\Store;

const PASSWORD = 'Pw-Secret-9137/x@y:z%';  // awkward characters: percent-encoded in the DSN
const OPTION_SECRET = 'Opt-Secret-5521-never-shown';
const STORED_SECRET = 'test-auth-token-secret'; // trunk.sql seeds it

$errorLog = tempnam(sys_get_temp_dir(), 'tt-secrets-log');
ini_set('log_errors', '1');
ini_set('error_log', $errorLog);
ini_set('display_errors', 'stderr');
error_reporting(E_ALL);

$GLOBALS['seen'] = [];
// The prefixes catch a password cut at one of its special characters.
$GLOBALS['secrets'] = [PASSWORD, rawurlencode(PASSWORD), 'Pw-Secret-9137', OPTION_SECRET, 'Opt-Secret-5521', STORED_SECRET];
// Passwords holding the URL's own delimiters, which make the whole DSN unparsable (a redactor
// that cuts at the first '/' or '?' would show part of them).
const UNPARSABLE_DSNS = ['mysql://u:Pa/ss-Unparsable-41@h/db', 'mysql://u:P@ss:W0rd?x-Unparsable-42@h/db'];
array_push($GLOBALS['secrets'], 'ss-Unparsable-41', 'Pa/ss', 'W0rd?x-Unparsable-42', 'ss:W0rd');

/** Records text the outside world could see. */
function see(string $what, $text): void
{
    $GLOBALS['seen'][] = [$what, is_string($text) ? $text : print_r($text, true)];
}

/** Every way PHP code can dump a value, recorded. */
function dump_all(string $what, $value): void
{
    ob_start();
    var_dump($value);
    see("var_dump $what", ob_get_clean());
    see("print_r $what", print_r($value, true));
    see("var_export $what", var_export($value, true));
    ob_start();
    debug_zval_dump($value);
    see("debug_zval_dump $what", ob_get_clean());
    see("json_encode $what", (string) json_encode($value, JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE));
    try {
        see("serialize $what", serialize($value));
    } catch (\Throwable $e) {
        see("serialize $what threw", get_class($e) . ': ' . $e->getMessage());
    }
    if (is_object($value)) {
        see("(array) $what", print_r((array) $value, true));
        see("get_object_vars $what", print_r(get_object_vars($value), true));
        $r = new ReflectionObject($value);
        foreach ($r->getProperties() as $p) {
            $p->setAccessible(true);
            if ($p->isInitialized($value)) {
                $v = $p->getValue($value);
                see("property {$p->getName()} of $what", print_r($v, true));
                if (is_object($v) && $v !== $value) {
                    dump_all("$what->{$p->getName()}", $v);
                }
            }
        }
    }
}

/** Records everything an exception shows: message, string form (trace with arguments), trace args. */
function see_exception(string $what, \Throwable $e): void
{
    for ($x = $e; $x !== null; $x = $x->getPrevious()) {
        see("$what: message", get_class($x) . ': ' . $x->getMessage());
        see("$what: string", (string) $x);
        // The arguments of the frames of the extension and of AuthTokens (a closure of this
        // file that captured a DSN would show it in its own frames: not the extension's doing).
        foreach ($x->getTrace() as $frame) {
            if (str_starts_with($frame['class'] ?? $frame['function'], 'TikiTokens') || ($frame['class'] ?? '') === 'AuthTokens') {
                see("$what: trace", print_r($frame, true));
            }
        }
    }
}

/** Runs $fn; records what it returned or threw. */
function attempt(string $what, callable $fn)
{
    try {
        $r = $fn();
        see("$what returned", print_r($r, true));
        return $r;
    } catch (\Throwable $e) {
        see_exception($what, $e);
        return $e;
    }
}

/** $dsn with user:password (percent-encoded) instead of root. */
function with_credentials(string $dsn, string $user, string $password): string
{
    return preg_replace('#^mysql://root@#', 'mysql://' . rawurlencode($user) . ':' . rawurlencode($password) . '@', $dsn);
}

$dsn = fresh_db('trunk');
$db = dsn_db($dsn);
$user = 'tt_secrets_' . getmypid();
$host = '127.0.0.1';
sql(dsn_with_db($dsn, ''), "DROP USER IF EXISTS '$user'@'$host'; CREATE USER '$user'@'$host' IDENTIFIED BY '" . addslashes(PASSWORD) . "';"
    . " GRANT SELECT, INSERT, UPDATE, DELETE ON `$db`.* TO '$user'@'$host';");
register_shutdown_function(static function () use ($dsn, $user, $host) {
    try {
        sql(dsn_with_db($dsn, ''), "DROP USER IF EXISTS '$user'@'$host';");
    } catch (\Throwable $e) {
        // best effort
    }
});
$userDsn = with_credentials($dsn, $user, PASSWORD);

test('control: the password user works, and the secrets are what this file expects', function () use ($userDsn, $dsn) {
    $store = new Store($userDsn);
    $made = $store->create('tiki-index.php', ['a' => '1'], ['Registered']);
    assert($store->lookup($made['token'], 'tiki-index.php', ['a' => '1']) instanceof Grant);
    assert(strlen($made['token']) === 64);
    assert(stored_secret($dsn) === STORED_SECRET);
    assert($made['token'] === hash_hmac('sha256', implode('', array_slice(array_values(sql($dsn,
        "SELECT tokenId, creation, timeout, entry, parameters, `groups` FROM tiki_auth_tokens WHERE tokenId = {$made['tokenId']}")[0]), 0, 6)), STORED_SECRET));
});

test('every object dumped every way', function () use ($userDsn, $dsn) {
    $stores = [
        'store (password DSN)' => new Store($userDsn),
        'store (option secret)' => new Store($userDsn, ['secret' => OPTION_SECRET]),
        'store (password in query)' => new Store($dsn . (str_contains($dsn, '?') ? '&' : '?') . 'password=' . rawurlencode(PASSWORD)),
    ];
    $made = $stores['store (password DSN)']->create('tiki-index.php', [], ['Registered'], ['hits' => -1, 'data' => ['k' => 'v']]);
    $made2 = $stores['store (option secret)']->create('tiki-index.php', [], ['Registered'], ['hits' => -1]);
    foreach ($stores as $what => $store) {
        dump_all($what, $store);
    }
    $grant = $stores['store (password DSN)']->lookup($made['token'], 'tiki-index.php', []);
    assert($grant instanceof Grant);
    dump_all('grant', $grant);
    $grant2 = $stores['store (option secret)']->lookup($made2['token'], 'tiki-index.php', []);
    assert($grant2 instanceof Grant);
    dump_all('grant (option secret)', $grant2);
    // Denials of every kind that can be reached with a real row: bad signature (wrong secret),
    // params and entry mismatch, unknown, malformed, a database error (password DSN, no server).
    $denials = [
        'bad signature' => $stores['store (option secret)']->lookup($made['token'], 'tiki-index.php', []),
        'params' => $stores['store (password DSN)']->lookup($made['token'], 'tiki-index.php', ['x' => '1']),
        'entry' => $stores['store (password DSN)']->lookup($made['token'], 'other.php', []),
        'unknown' => $stores['store (password DSN)']->lookup(str_repeat('a', 64), 'tiki-index.php', []),
        'malformed' => $stores['store (password DSN)']->lookup('not-hex', 'tiki-index.php', []),
    ];
    foreach ($denials as $what => $d) {
        assert($d instanceof Denial, $what);
        dump_all("denial $what", $d);
    }
    assert($denials['bad signature']->reason === 'bad_signature', $denials['bad signature']->reason);
    foreach (['array', 'json', 'str', 'string'] as $cast) {
        foreach (['store' => $stores['store (option secret)'], 'grant' => $grant, 'denial' => $denials['params']] as $what => $o) {
            attempt("$cast cast $what", fn () => match ($cast) {
                'array' => (array) $o,
                'json' => json_encode($o),
                'str' => "$o",
                'string' => strval($o),
            });
        }
    }
    $lib = new AuthTokens($userDsn, ['secret' => OPTION_SECRET, 'purgeInterval' => 3600]);
    $libToken = $lib->createToken('tiki-index.php', [], ['Registered'], ['hits' => -1]);
    assert($lib->getGroups($libToken, 'tiki-index.php', []) === ['Registered']);
    dump_all('AuthTokens (password DSN, option secret)', $lib);
    dump_all('AuthTokens::getStore()', $lib->getStore());
    assert($lib->getGroups($made['token'], 'tiki-index.php', []) === null);
    dump_all('AuthTokens after a denial', $lib);
    see('AuthTokens::getTokens()', $lib->getTokens());
    see('AuthTokens::getToken()', $lib->getToken($libToken));
    see('schemeInfo', $stores['store (option secret)']->schemeInfo());
    see('connectionState', $stores['store (password DSN)']->connectionState());
});

test('exception messages and traces: bad DSN, no server, wrong password, schema, input', function () use ($dsn, $user, $userDsn) {
    // A DSN with the password whose server does not answer (a closed port).
    $sock = stream_socket_server('tcp://127.0.0.1:0');
    $port = (int) substr(strrchr(stream_socket_get_name($sock, false), ':'), 1);
    fclose($sock);
    $dead = preg_replace('#@[^/]+/#', "@127.0.0.1:$port/", $userDsn);
    $store = new Store($dead, ['connectTimeout' => 1, 'ioTimeout' => 1]);
    $d = $store->lookup(str_repeat('a', 64), 'tiki-index.php', []);
    assert($d instanceof Denial && $d->reason === 'database_error', print_r($d, true));
    dump_all('denial (no server)', $d);
    foreach (['create' => fn () => $store->create('x.php', [], ['G']), 'list' => fn () => $store->list(),
        'get' => fn () => $store->get(str_repeat('a', 64)), 'purge' => fn () => $store->purge(),
        'rotateSecret' => fn () => $store->rotateSecret(), 'migrate' => fn () => $store->migrate(),
        'schemeInfo' => fn () => $store->schemeInfo(), 'connectionState' => fn () => $store->connectionState()] as $what => $fn) {
        $r = attempt("no server: $what", $fn);
        if ($what !== 'connectionState') {
            assert($r instanceof TikiTokens\DatabaseException, "$what: " . (is_object($r) ? get_class($r) : gettype($r)));
        }
    }
    ob_start();
    phpinfo(INFO_MODULES);
    see('phpinfo after a failed connection', ob_get_clean());

    // The right user, a wrong password (the real one with a suffix: a leak of a prefix shows).
    $wrong = with_credentials($dsn, $user, PASSWORD . '-wrong');
    $store = new Store($wrong);
    $d = $store->lookup(str_repeat('a', 64), 'tiki-index.php', []);
    assert($d instanceof Denial && $d->reason === 'database_error', print_r($d, true));
    dump_all('denial (wrong password)', $d);
    $e = attempt('wrong password: create', fn () => $store->create('x.php', [], ['G']));
    assert($e instanceof TikiTokens\DatabaseException, get_class($e));
    // Root with a password (it has none): access denied.
    $e = attempt('root with a password', fn () => (new Store(with_credentials($dsn, 'root', PASSWORD)))->list());
    assert($e instanceof TikiTokens\DatabaseException, get_class($e));

    // Bad DSNs that hold the password: unknown option, bad port, no database, bad scheme.
    foreach ([
        'unknown option' => $userDsn . '&bogus=1',
        'bad port' => preg_replace('#@[^/]+/#', '@127.0.0.1:99999999/', $userDsn),
        'no database' => preg_replace('#/[^/?]+(\?|$)#', '/$1', $userDsn),
        'bad scheme' => preg_replace('#^mysql:#', 'postgres:', $userDsn),
        'not a URL' => 'mysql://' . $user . ':' . PASSWORD . '@',
        'raw password' => 'mysql://' . $user . ':' . PASSWORD . '@127.0.0.1/x',
        'unparsable 1' => UNPARSABLE_DSNS[0],
        'unparsable 2' => UNPARSABLE_DSNS[1],
    ] as $what => $bad) {
        $r = attempt("bad DSN: $what", fn () => (new Store($bad, ['connectTimeout' => 1]))->list());
        assert($r instanceof \Throwable, "bad DSN $what accepted");
    }

    // Schema errors with the password user: a database without the table.
    $empty = fresh_db('trunk', false);
    sql($empty, 'DROP TABLE tiki_auth_tokens;');
    $emptyDb = dsn_db($empty);
    sql(dsn_with_db($dsn, ''), "GRANT SELECT, INSERT, UPDATE, DELETE ON `$emptyDb`.* TO '$user'@'127.0.0.1';");
    $store = new Store(with_credentials($empty, $user, PASSWORD));
    $e = attempt('schema: list', fn () => $store->list());
    assert($e instanceof TikiTokens\SchemaException, is_object($e) ? get_class($e) : gettype($e));
    attempt('schema: create', fn () => $store->create('x.php', [], ['G']));
    $d = $store->lookup(str_repeat('a', 64), 'tiki-index.php', []);
    dump_all('denial (schema)', $d);

    // Invalid input with the secret configured.
    $store = new Store($userDsn, ['secret' => OPTION_SECRET]);
    foreach ([
        'float param' => fn () => $store->create('x.php', ['f' => 1.5], ['G']),
        'TOKEN param' => fn () => $store->create('x.php', ['TOKEN' => 'x'], ['G']),
        'bad option' => fn () => new Store($userDsn, ['secret' => OPTION_SECRET, 'bogus' => 1]),
        'bad secret type' => fn () => new Store($userDsn, ['secret' => [OPTION_SECRET]]),
        'bad maxHits' => fn () => new Store($userDsn, ['secret' => OPTION_SECRET, 'maxHits' => 'x']),
        'purge -1' => fn () => $store->purge(-1),
        'bad data' => fn () => $store->create('x.php', [], ['G'], ['data' => "\xff"]),
        'bad includeToken' => fn () => $store->includeToken('http://x/y.php', [['G']]),
    ] as $what => $fn) {
        $r = attempt("invalid input: $what", $fn);
        assert($r instanceof \Throwable, "$what accepted");
    }
    // AuthTokens with a bad DSN holding the password; a TypeError in its constructor (the
    // trace's arguments would hold the DSN without #[\SensitiveParameter]).
    $e = attempt('AuthTokens TypeError', fn () => new AuthTokens($userDsn, 'not an array'));
    assert($e instanceof \TypeError, get_class($e));
    assert(($e->getTrace()[0]['function'] ?? '') === '__construct', 'the frame of AuthTokens::__construct is in the trace');
    // AuthTokens with a bad DSN holding the password.
    attempt('AuthTokens bad DSN', fn () => new AuthTokens('mysql://' . $user . ':' . PASSWORD . '@', ['secret' => OPTION_SECRET]));
    foreach (UNPARSABLE_DSNS as $i => $bad) {
        attempt("AuthTokens unparsable DSN $i", fn () => new AuthTokens($bad));
    }
    attempt('AuthTokens dead server', fn () => (new AuthTokens($dead, ['secret' => OPTION_SECRET]))->getTokens());
});

test('rotateSecret and migrate never show the new secret', function () use ($userDsn, $dsn) {
    $store = new Store($dsn);
    see('rotateSecret', attempt('rotateSecret', fn () => $store->rotateSecret(false)));
    $new = stored_secret($dsn);
    assert(is_string($new) && $new !== STORED_SECRET && strlen($new) >= 32);
    $GLOBALS['secrets'][] = $new;
    dump_all('store after rotate', $store);
    $legacy = fresh_db('tiki24');
    $store = new Store($legacy);
    $report = attempt('migrate', fn () => $store->migrate());
    assert(is_array($report) && $report['secretCreated'] === true, print_r($report, true));
    $created = stored_secret($legacy);
    assert(is_string($created) && strlen($created) >= 32);
    $GLOBALS['secrets'][] = $created;
    dump_all('store after migrate', $store);
    see('schemeInfo after migrate', $store->schemeInfo());
    ob_start();
    phpinfo();
    see('phpinfo() (all)', ob_get_clean());
});

test('PHP warnings and notices from misuse record nothing secret', function () use ($userDsn) {
    $store = new Store($userDsn, ['secret' => OPTION_SECRET]);
    $grant = $store->lookup(str_repeat('a', 64), 'tiki-index.php', []);
    // Undefined and read-only properties, string conversion, comparison, clone, unserialize.
    attempt('undefined property', fn () => $store->nope);
    attempt('write property', function () use ($grant) {
        $grant->reason = OPTION_SECRET . 'x';
    });
    attempt('dynamic property', function () use ($store) {
        $store->secret = 'shown?';
        return $store->secret;
    });
    attempt('compare', fn () => $store == new Store($userDsn, ['secret' => OPTION_SECRET]));
    attempt('clone', fn () => clone $store);
    attempt('unserialize Store', fn () => unserialize('O:16:"TikiTokens\Store":0:{}'));
    trigger_error('a user notice for the log', E_USER_NOTICE);
});

test('nothing seen holds a secret (outputs, exceptions, dumps, error_log)', function () use ($errorLog) {
    see('error_log', (string) file_get_contents($errorLog));
    assert(str_contains((string) file_get_contents($errorLog), 'a user notice for the log'), 'the error_log capture works');
    $checked = 0;
    $leaks = [];
    foreach ($GLOBALS['seen'] as [$what, $text]) {
        $checked++;
        foreach ($GLOBALS['secrets'] as $i => $secret) {
            if (stripos($text, $secret) !== false) {
                $leaks[] = "$what shows secret #$i";
            }
        }
    }
    assert($checked > 150, "only $checked outputs were checked");
    assert(! $leaks, implode("\n", $leaks));
    echo "checked $checked outputs for " . count($GLOBALS['secrets']) . " secrets\n";
    @unlink($errorLog);
});

done();
