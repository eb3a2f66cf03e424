<?php
/**
 * Every class, method and function of the native API (TikiTokens\…), on Tiki 24's table and on
 * trunk's, against a real database.
 */
require __DIR__ . '/lib/harness.php';

use TikiTokens\ConfigException;
use TikiTokens\DatabaseException;
use TikiTokens\Denial;
use TikiTokens\Grant;
use TikiTokens\InvalidInputException;
use TikiTokens\Store;

const SECRET = 'test-auth-token-secret';

function temp_user(string $prefix, int $tokenId): string
{
    return $prefix . sprintf('%06d', $tokenId * 531441 % 1000000);
}

function pools_in_process(): int
{
    ob_start();
    phpinfo(INFO_MODULES);
    $info = ob_get_clean();
    return preg_match('/stores \(pools\) in this process => (\d+)/', $info, $m) ? (int) $m[1] : -1;
}

test('exception hierarchy', function () {
    foreach (['ConfigException', 'DatabaseException', 'SchemaException', 'InvalidInputException'] as $name) {
        assert(is_subclass_of("TikiTokens\\$name", TikiTokens\Exception::class));
    }
    assert(is_subclass_of(TikiTokens\Exception::class, \Exception::class));
});

test('constructor: the INI DSN when none is given, and its errors', function () {
    sql(base_dsn(), file_get_contents(repo() . '/tests/data/tiki24.sql'));
    $store = new Store();
    assert($store->list() === []);
    assert(is_string($store->connectionState()) && $store->connectionState() !== '');
    $e = throws(ConfigException::class, fn () => new Store(''), 'no DSN');
    throws(ConfigException::class, fn () => new Store('this is not a DSN'));
    throws(ConfigException::class, fn () => new Store("mysql://u@h/\xff\xfe"), 'UTF-8');
});

test('constructor: every option, checked', function () {
    $dsn = fresh_db('trunk');
    $store = new Store($dsn, [
        'secret' => 'another-secret', 'maxTimeout' => 100, 'maxHits' => 5,
        'connectTimeout' => 2, 'ioTimeout' => 2.5, 'forceLegacy' => false,
    ]);
    assert($store instanceof Store);
    assert((new Store($dsn, ['secret' => null]))->schemeInfo()['hasSecret'] === true);
    throws(InvalidInputException::class, fn () => new Store($dsn, ['maxtimeout' => 10]), 'unknown option');
    throws(InvalidInputException::class, fn () => new Store($dsn, ['maxHits' => '10']), 'maxHits');
    throws(InvalidInputException::class, fn () => new Store($dsn, ['maxTimeout' => 1.5]), 'maxTimeout');
    throws(InvalidInputException::class, fn () => new Store($dsn, ['secret' => '']), 'secret');
    throws(InvalidInputException::class, fn () => new Store($dsn, ['secret' => 42]), 'secret');
    throws(InvalidInputException::class, fn () => new Store($dsn, ['forceLegacy' => 1]), 'forceLegacy');
    throws(InvalidInputException::class, fn () => new Store($dsn, ['connectTimeout' => -1]), 'connectTimeout');
    throws(InvalidInputException::class, fn () => new Store($dsn, ['ioTimeout' => NAN]), 'ioTimeout');
    throws(InvalidInputException::class, fn () => new Store($dsn, ['connectTimeout' => 1e9]), 'connectTimeout');
    throws(InvalidInputException::class, fn () => new Store($dsn, [0 => 'x']), 'unknown option');
});

test('one store (pool) per configuration per process', function () {
    $dsn = fresh_db('trunk');
    $before = pools_in_process();
    assert($before >= 0);
    $a = new Store($dsn);
    $b = new Store($dsn);
    assert(pools_in_process() === $before + 1);
    $c = new Store($dsn, ['maxHits' => 3]);
    assert(pools_in_process() === $before + 2);
    $token = $a->create('/t.php', [], ['G'])['token'];
    assert($b->get($token) !== null);
});

test('lookup: a Grant with every property', function () {
    $dsn = fresh_db('trunk');
    $store = new Store($dsn, ['maxHits' => 10]);
    $made = $store->create('/tiki/tiki-index.php', ['page' => 'Home', 'a' => ['x', 'y']], ['Registered', 'Editors'], [
        'hits' => 3, 'email' => 'who@example.com', 'createUser' => true, 'userPrefix' => 'guest',
        'user' => 'admin', 'data' => ['k' => 'v'],
    ]);
    $grant = $store->lookup($made['token'], '/tiki/tiki-index.php', ['a' => ['x', 'y'], 'page' => 'Home']);
    assert($grant instanceof Grant);
    assert($grant->tokenId === $made['tokenId'] && $grant->tokenId === 4);
    assert($grant->groups === ['Registered', 'Editors']);
    assert($grant->email === 'who@example.com');
    assert($grant->createUser === true && $grant->userPrefix === 'guest');
    assert($grant->tempUser === temp_user('guest', 4));
    assert($grant->user === 'admin' && $grant->data === '{"k":"v"}');
    assert($grant->hitsLeft === 2);
    throws(\Throwable::class, function () use ($grant) {
        $grant->tokenId = 99;
    });
    assert($grant->tokenId === 4);
    $plain = $store->create('/x.php', [], ['G']);
    $g = $store->lookup($plain['token'], '/x.php', ['TOKEN' => $plain['token']]); // TOKEN in params is ignored
    assert($g instanceof Grant && $g->createUser === false && $g->tempUser === null && $g->email === '');
    assert($g->user === null && $g->data === null);
});

test('lookup: a Denial with reason, detail and message', function () {
    $dsn = fresh_db('tiki24');
    $store = new Store($dsn);
    $d = $store->lookup('e2990f7983b7b6c46b3987536aa38d32', '/other.php', []);
    assert($d instanceof Denial);
    assert($d->reason === 'entry_mismatch' && is_string($d->detail));
    assert($d->message === 'Your access to this page has expired');
    assert(strpos($d->detail, 'e2990f7983b7b6c46b3987536aa38d32') === false, 'the detail never holds the token');
    $d = $store->lookup('zz', 'tiki-index.php', []);
    assert($d instanceof Denial && $d->reason === 'malformed');
    $d = $store->lookup(['e2990f7983b7b6c46b3987536aa38d32'], 'tiki-index.php', []);
    assert($d instanceof Denial && $d->reason === 'malformed' && strpos($d->detail, 'array') !== false);
    $g = $store->lookup('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []);
    assert($g instanceof Grant && $g->groups === ['Admins', 'Registered'] && $g->hitsLeft === 9);
});

test('create: legacy on Tiki 24, signed on trunk, forceLegacy, secret option', function () {
    $legacy = (new Store(fresh_db('tiki24')))->create('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
    assert(array_keys($legacy) === ['tokenId', 'token', 'scheme']);
    assert($legacy['scheme'] === 'legacy' && strlen($legacy['token']) === 32 && $legacy['tokenId'] === 4);

    $dsn = fresh_db('trunk');
    $signed = (new Store($dsn))->create('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
    assert($signed['scheme'] === 'signed' && strlen($signed['token']) === 64);
    $row = sql($dsn, "SELECT * FROM tiki_auth_tokens WHERE tokenId = {$signed['tokenId']}")[0];
    assert($signed['token'] === token_of_row($row, SECRET));

    $forced = (new Store($dsn, ['forceLegacy' => true]))->create('tiki-index.php', [], ['Registered']);
    assert($forced['scheme'] === 'legacy' && strlen($forced['token']) === 32);
    $row = sql($dsn, "SELECT * FROM tiki_auth_tokens WHERE tokenId = {$forced['tokenId']}")[0];
    assert($forced['token'] === token_of_row($row));

    $own = new Store($dsn, ['secret' => 'my-own-secret']);
    $mine = $own->create('tiki-index.php', [], ['Registered']);
    $row = sql($dsn, "SELECT * FROM tiki_auth_tokens WHERE tokenId = {$mine['tokenId']}")[0];
    assert($mine['token'] === token_of_row($row, 'my-own-secret'));
    assert($own->lookup($mine['token'], 'tiki-index.php', []) instanceof Grant);
    $d = (new Store($dsn))->lookup($mine['token'], 'tiki-index.php', []);
    assert($d instanceof Denial && $d->reason === 'bad_signature');
});

test('create: options reach the row; params and groups as given', function () {
    $dsn = fresh_db('trunk');
    $store = new Store($dsn, ['maxTimeout' => 7200, 'maxHits' => 50]);
    $made = $store->create('/tiki/tiki-download_file.php', ['fileId' => 5, 'a' => ['x' => '1']], ['Registered'], [
        'timeout' => 600, 'hits' => 7, 'email' => 'a@b.c', 'createUser' => true, 'userPrefix' => 'p_',
        'user' => 'creator', 'data' => ['n' => 1],
    ]);
    $row = sql($dsn, "SELECT * FROM tiki_auth_tokens WHERE tokenId = {$made['tokenId']}")[0];
    assert($row['timeout'] === '600' && $row['hits'] === '7' && $row['maxhits'] === '7');
    assert($row['email'] === 'a@b.c' && $row['createUser'] === 'y' && $row['userPrefix'] === 'p_');
    assert($row['user'] === 'creator' && $row['data'] === '{"n":1}');
    assert($row['entry'] === '/tiki/tiki-download_file.php');
    assert($row['parameters'] === '{"fileId":5,"a":{"x":"1"}}', $row['parameters']);
    assert($row['groups'] === '["Registered"]');
    // A stored JSON integer matches the request string of its decimal form.
    assert($store->lookup($made['token'], '/tiki/tiki-download_file.php', ['fileId' => '5', 'a' => ['x' => '1']]) instanceof Grant);
    $unlimited = $store->create('/u.php', [], ['G'], ['timeout' => -1, 'hits' => -1]);
    $row = sql($dsn, "SELECT timeout, hits FROM tiki_auth_tokens WHERE tokenId = {$unlimited['tokenId']}")[0];
    assert($row['timeout'] === '-1' && $row['hits'] === '-1');
    $defaults = $store->create('/d.php', [], ['G']);
    $row = sql($dsn, "SELECT timeout, hits, userPrefix, createUser FROM tiki_auth_tokens WHERE tokenId = {$defaults['tokenId']}")[0];
    assert($row['timeout'] === '7200' && $row['hits'] === '50' && $row['createUser'] === 'n');
    throws(InvalidInputException::class, fn () => $store->create('/d.php', [], ['G'], ['bogus' => 1]), 'unknown option');
    throws(InvalidInputException::class, fn () => $store->create('/d.php', [], ['G'], ['hits' => '3']), 'hits');
    throws(InvalidInputException::class, fn () => $store->create('/d.php', [], ['G'], ['createUser' => 'y']), 'createUser');
});

test('includeToken: the URL comes back with its token and requesting it matches', function () {
    $dsn = fresh_db('trunk');
    $store = new Store($dsn, ['maxHits' => 10]);
    $url = 'https://example.com/tiki/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&separator=%2C&listfields[]=2&listfields[]=3#top';
    $minted = $store->includeToken($url, ['Registered'], ['hits' => 2, 'email' => 'x@y.z']);
    assert(preg_match('#^https://example\.com/tiki/tiki-ajax_services\.php\?(.*)&TOKEN=([0-9a-f]{64})\#top$#', $minted, $m) === 1, $minted);
    parse_str($m[1] . '&TOKEN=' . $m[2], $get); // what PHP puts into $_GET for the minted URL
    $token = $get['TOKEN'];
    unset($get['TOKEN']);
    assert($get['separator'] === ',' && $get['listfields'] === ['2', '3']);
    $grant = $store->lookup($token, '/tiki/tiki-ajax_services.php', $get);
    assert($grant instanceof Grant && $grant->email === 'x@y.z' && $grant->hitsLeft === 1);
    $canon = TikiTokens\canonical_url($minted);
    assert($canon['entry'] === '/tiki/tiki-ajax_services.php' && $canon['params'] === $get);
    assert($store->lookup($token, '/tiki/tiki-ajax_services.php', ['listfields' => ['3', '2']] + $get) instanceof Grant === false);
    assert(str_starts_with($store->includeToken('/relative/tiki-index.php?a=1'), '/relative/tiki-index.php?a=1&TOKEN='));
    throws(TikiTokens\Exception::class, fn () => $store->includeToken('ftp://example.com/x'));
});

test('get: the row only if the token verifies', function () {
    $dsn = fresh_db('tiki24');
    $store = new Store($dsn);
    $row = $store->get('e2990f7983b7b6c46b3987536aa38d32');
    assert(is_array($row));
    assert(array_keys($row) === ['tokenId', 'creation', 'timeout', 'hits', 'maxhits', 'token', 'entry', 'email', 'parameters', 'groups', 'createUser', 'userPrefix']);
    assert($row['tokenId'] === 3 && $row['creation'] === '2012-02-02 19:27:15' && $row['timeout'] === -1);
    assert($row['hits'] === 10 && $row['maxhits'] === 10 && $row['entry'] === 'tiki-index.php');
    assert($row['parameters'] === '[]' && $row['groups'] === '["Admins","Registered"]' && $row['email'] === '');
    assert($store->get('823bde97a717c55b2cfbf9fbd6c81816') === null, 'fixture row 1 does not verify');
    assert($store->get(str_repeat('0', 32)) === null);
    assert($store->get('not hex') === null);
    $trunk = new Store(fresh_db('trunk'));
    $made = $trunk->create('/a.php', [], ['G'], ['user' => 'u1']);
    $row = $trunk->get($made['token']);
    assert($row['user'] === 'u1' && ! array_key_exists('data', $row) && strlen($row['token']) === 64);
});

test('list: every row, oldest first', function () {
    $dsn = fresh_db('tiki24');
    $rows = (new Store($dsn))->list();
    assert(array_column($rows, 'tokenId') === [2, 1, 3]);
    sql($dsn, 'DELETE FROM tiki_auth_tokens');
    assert((new Store($dsn))->list() === []);
});

test('delete: the temporary user of a createUser row', function () {
    $dsn = fresh_db('trunk');
    $store = new Store($dsn);
    $a = $store->create('/a.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'guest']);
    $b = $store->create('/b.php', [], ['G']);
    assert($store->delete($a['tokenId']) === temp_user('guest', $a['tokenId']));
    assert($store->delete($b['tokenId']) === null);
    assert($store->delete(999999) === null);
    assert($store->get($a['token']) === null && $store->get($b['token']) === null);
    assert(count($store->list()) === 3);
});

test('purge: expired and used-up rows, within the limit', function () {
    $dsn = fresh_db('trunk');
    $store = new Store($dsn);
    $used = $store->create('/u.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'g', 'hits' => 1]);
    assert($store->lookup($used['token'], '/u.php', []) instanceof Grant); // its one hit
    $live = $store->create('/l.php', [], ['G']);
    // Dead now: fixture rows 1 and 2 (expired) and row 4 (no hits left).
    $users = $store->purge(1);
    assert(count($store->list()) === 4, 'limit 1 removes one of the three dead rows');
    $users = array_merge($users, $store->purge());
    assert($users === [temp_user('g', $used['tokenId'])]);
    assert(array_column($store->list(), 'tokenId') === [3, $live['tokenId']]);
    assert($store->purge() === []);
    assert($store->purge(0) === []);
    throws(InvalidInputException::class, fn () => $store->purge(-1), 'limit');
    throws(InvalidInputException::class, fn () => $store->purge(PHP_INT_MAX), 'limit');
});

test('purgeIfDue: once per interval per process', function () {
    $dsn = fresh_db('tiki24');
    $store = new Store($dsn);
    assert(is_array($store->purgeIfDue(3600)));
    assert($store->purgeIfDue(3600) === null);
    assert(is_array($store->purgeIfDue(0)));
    assert(is_array($store->purgeIfDue(0)));
    assert((new Store($dsn))->purgeIfDue(3600) === null, 'shared by every object of the configuration');
    $other = new Store(fresh_db('tiki24'));
    assert(is_array($other->purgeIfDue()), 'INI interval (60 s): the first call purges');
    assert($other->purgeIfDue() === null);
    throws(InvalidInputException::class, fn () => $other->purgeIfDue(-5), 'interval');
});

test('revokeAll: every row, with the temporary users', function () {
    $dsn = fresh_db('trunk');
    $store = new Store($dsn);
    $a = $store->create('/a.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'x']);
    $revoked = $store->revokeAll();
    assert($revoked === ['revoked' => 4, 'tempUsers' => [temp_user('x', $a['tokenId'])]], print_r($revoked, true));
    assert($store->list() === []);
    assert($store->revokeAll() === ['revoked' => 0, 'tempUsers' => []]);
});

test('rotateSecret: with and without revoking', function () {
    $dsn = fresh_db('trunk');
    $store = new Store($dsn);
    $t = $store->create('/a.php', [], ['G'], ['hits' => 1]);
    assert($store->rotateSecret() === ['revoked' => 0, 'tempUsers' => []]);
    $secret = stored_secret($dsn);
    assert($secret !== SECRET && preg_match('/^[0-9a-f]{64}$/', $secret) === 1);
    $d = $store->lookup($t['token'], '/a.php', []);
    assert($d instanceof Denial && $d->reason === 'bad_signature');
    $t2 = $store->create('/a.php', [], ['G']);
    assert($store->lookup($t2['token'], '/a.php', []) instanceof Grant);
    assert(count($store->list()) === 5);
    assert($store->rotateSecret(true) === ['revoked' => 5, 'tempUsers' => []]);
    assert($store->list() === [] && stored_secret($dsn) !== $secret);
});

test('migrate and schemeInfo: Tiki 24 -> trunk, idempotent', function () {
    $dsn = fresh_db('tiki24');
    $store = new Store($dsn);
    $before = $store->schemeInfo();
    assert($before === ['minting' => 'legacy', 'needsMigration' => true, 'tokenWidth' => 32, 'hasSecret' => false, 'cluster' => null]);
    $report = $store->migrate();
    assert(array_keys($report) === ['altered', 'secretCreated']);
    assert(count($report['altered']) > 0 && $report['secretCreated'] === true);
    $after = $store->schemeInfo();
    assert($after === ['minting' => 'signed', 'needsMigration' => false, 'tokenWidth' => 64, 'hasSecret' => true, 'cluster' => null]);
    assert(preg_match('/^[0-9a-f]{64}$/', stored_secret($dsn)) === 1);
    assert($store->migrate() === ['altered' => [], 'secretCreated' => false]);
    $cols = array_column(sql($dsn, 'SHOW COLUMNS FROM tiki_auth_tokens'), 'Type', 'Field');
    assert($cols['token'] === 'varchar(64)' && $cols['entry'] === 'mediumtext' && $cols['parameters'] === 'text');
    assert(isset($cols['user'], $cols['data']));
    assert($store->lookup('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []) instanceof Grant, 'legacy tokens keep working');
    $made = $store->create('tiki-index.php', [], ['G']);
    assert($made['scheme'] === 'signed' && strlen($made['token']) === 64);
    assert((new Store(fresh_db('trunk')))->schemeInfo() === ['minting' => 'signed', 'needsMigration' => false, 'tokenWidth' => 64, 'hasSecret' => true, 'cluster' => null]);
});

test('fail closed: an unreachable database denies, throws DatabaseException, shows no password', function () {
    $store = new Store('mysql://root:Pw-Not-Shown-1@127.0.0.1:1/nothing?prefer_socket=false', ['connectTimeout' => 1, 'ioTimeout' => 1]);
    $d = $store->lookup(str_repeat('a', 32), '/x.php', []);
    assert($d instanceof Denial && $d->reason === 'database_error');
    assert(strpos($d->detail, 'Pw-Not-Shown-1') === false);
    $e = throws(DatabaseException::class, fn () => $store->create('/x.php', [], ['G']));
    assert(strpos($e->getMessage(), 'Pw-Not-Shown-1') === false);
    foreach (['list', 'revokeAll', 'migrate', 'schemeInfo'] as $method) {
        $e = throws(DatabaseException::class, fn () => $store->$method());
        assert(strpos($e->getMessage(), 'Pw-Not-Shown-1') === false);
    }
    assert(strpos($store->connectionState(), 'Pw-Not-Shown-1') === false);
});

test('a missing table is a SchemaException', function () {
    $dsn = dsn_with_db(base_dsn(), dsn_db(fresh_db('trunk')));
    sql($dsn, 'DROP TABLE tiki_auth_tokens');
    throws(TikiTokens\SchemaException::class, fn () => (new Store($dsn))->create('/x.php', [], ['G']));
    $d = (new Store($dsn))->lookup(str_repeat('a', 64), '/x.php', []);
    assert($d instanceof Denial);
});

test('allowPost: kept in data on trunk, refused on Tiki 24 except for the upload script', function () {
    $trunk = new Store(fresh_db('trunk'));
    $made = $trunk->create('/tiki-index.php', ['page' => 'P'], ['G'], ['allowPost' => true, 'data' => ['a' => 'b']]);
    assert($trunk->get($made['token'])['data'] === '{"a":"b","allowPost":true}');
    assert($trunk->lookup($made['token'], '/tiki-index.php', ['page' => 'P'])->data === '{"a":"b","allowPost":true}');
    $plain = $trunk->create('/tiki-index.php', [], ['G'], ['allowPost' => false]);
    assert(! isset($trunk->get($plain['token'])['data']));
    throws(InvalidInputException::class, fn () => $trunk->create('/x.php', [], ['G'], ['data' => ['allowPost' => true]]), 'allowPost');
    throws(InvalidInputException::class, fn () => $trunk->create('/x.php', [], ['G'], ['allowPost' => 1]), 'allowPost');
    throws(InvalidInputException::class, fn () => $trunk->create('/x.php', [], ['G'], ['allowPost' => 'y']), 'allowPost');
    $old = new Store(fresh_db('tiki24'));
    $before = count($old->list());
    throws(InvalidInputException::class, fn () => $old->create('/tiki-index.php', [], ['G'], ['allowPost' => true]), 'data column');
    assert(count($old->list()) === $before, 'nothing written');
    $upload = $old->create('/tiki/tiki-upload_file.php', ['galleryId' => '5'], ['G'], ['allowPost' => true]);
    assert(is_string($upload['token']));
    throws(InvalidInputException::class, fn () => $old->includeToken('http://x.y/a.php?b=1', ['G'], ['allowPost' => true]), 'data column');
});

test('lookupRequest: on the command line there is no request to bind', function () {
    $store = new Store(fresh_db('trunk'));
    $made = $store->create('/tiki-index.php', ['page' => 'P'], ['G']);
    // No TOKEN in any query string, no method: on the CLI that is no request, not a denial.
    $g = $store->lookupRequest($made['token'], '/tiki-index.php', ['page' => 'P']);
    assert($g instanceof Grant);
    $d = $store->lookupRequest($made['token'], '/tiki-index.php', ['page' => 'Q']);
    assert($d instanceof Denial && $d->reason === 'params_mismatch');
    assert($store->lookupRequest(['x'], '/tiki-index.php', [])->reason === 'malformed');
    foreach (['method_not_allowed', 'cookie_override', 'dropped_input', 'token_not_in_query'] as $r) {
        assert(in_array($r, Denial::reasons(), true), $r);
    }
});

test('canonical_url', function () {
    $c = TikiTokens\canonical_url('https://user:pw@example.com:8443/tiki/./sub/../tiki-index.php?page=Home%20Page&TOKEN=abc&a[]=1&a[]=2#frag');
    assert($c === ['entry' => '/tiki/tiki-index.php', 'params' => ['page' => 'Home Page', 'a' => ['1', '2']]], var_export($c, true));
    assert(TikiTokens\canonical_url('/x.php')['params'] === []);
    throws(TikiTokens\Exception::class, fn () => TikiTokens\canonical_url('mailto:x@y.z'));
});

test('parse_query is what PHP puts into $_GET', function () {
    $queries = [
        'a=1&b=2', 'a[]=1&a[]=2', 'a[x][y]=1&a[x][z]=2', 'a.b=1&c d=2', 'x=%2C%25&y=a+b', 'e=&f', '=x&g=1',
        'h[=1', 'i[k]l=1', 'c[ 0]=1', '01=a&1=b', "n%00ame=1", 'TOKEN=abc&token=def', 'a=1&a=2', '%zz=%zz',
    ];
    foreach ($queries as $q) {
        parse_str($q, $expected);
        assert(TikiTokens\parse_query($q) === $expected, $q . ': ' . var_export(TikiTokens\parse_query($q), true));
    }
});

done();
