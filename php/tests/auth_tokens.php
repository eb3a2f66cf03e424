<?php
/**
 * Every public method of the drop-in AuthTokens (php/AuthTokens.php) outside Tiki (no TikiLib,
 * no TikiDb), on Tiki 24's table and trunk's.
 */
require __DIR__ . '/lib/harness.php';
require __DIR__ . '/../AuthTokens.php';

function temp_user(string $prefix, int $tokenId): string
{
    return $prefix . sprintf('%06d', $tokenId * 531441 % 1000000);
}

function last_row(string $dsn): array
{
    return sql($dsn, 'SELECT * FROM tiki_auth_tokens ORDER BY tokenId DESC LIMIT 1')[0];
}

test('constructor: a DSN string, or null for the INI DSN; Tiki class defaults 3600 and 1', function () {
    $dsn = fresh_db('tiki24');
    $lib = new AuthTokens($dsn);
    $lib->createToken('tiki-index.php', [], ['Registered'], ['timeout' => 999999, 'hits' => 999]);
    $row = last_row($dsn);
    assert($row['timeout'] === '3600' && $row['hits'] === '1', 'capped at the class defaults');
    assert($lib->ok === false && $lib->lastDenial === null && $lib->purgedUsers === []);
    assert($lib->getStore() instanceof TikiTokens\Store);

    sql(base_dsn(), file_get_contents(repo() . '/tests/data/trunk.sql'));
    $ini = new AuthTokens(null, ['maxHits' => 5]);
    $token = $ini->createToken('/x.php', [], ['G'], ['hits' => 3]);
    assert(strlen($token) === 64 && sql_one(base_dsn(), 'SELECT hits FROM tiki_auth_tokens') === '3');
    assert((new AuthTokens())->getToken($token)['hits'] === 3);
    $withDt = new AuthTokens($dsn, [], new DateTime('2012-02-03 15:25:07'));
    assert($withDt->getToken('e2990f7983b7b6c46b3987536aa38d32')['tokenId'] === 3);
});

test('build($prefs): the caps come from the preferences', function () {
    $lib = AuthTokens::build(['auth_token_access_maxtimeout' => '10', 'auth_token_access_maxhits' => '5']);
    $lib->createToken('/b.php', [], ['G'], ['timeout' => 3600, 'hits' => 100]);
    $row = last_row(base_dsn());
    assert($row['timeout'] === '10' && $row['hits'] === '5');
    $defaults = AuthTokens::build([]);
    $defaults->createToken('/c.php', [], ['G'], ['timeout' => 99999, 'hits' => 99]);
    $row = last_row(base_dsn());
    assert($row['timeout'] === '3600' && $row['hits'] === '1');
});

test('constructor: secret option', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['secret' => 'site-secret']);
    $token = $lib->createToken('/s.php', [], ['G']);
    assert($token === token_of_row(last_row($dsn), 'site-secret'));
    assert($lib->getGroups($token, '/s.php', []) === ['G']);
    $other = new AuthTokens($dsn);
    assert($other->getToken($token) === null);
});

test('getToken, getActiveToken, getTokens', function () {
    $dsn = fresh_db('tiki24');
    $lib = new AuthTokens($dsn, ['purgeInterval' => 3600]);
    $row = $lib->getToken('e2990f7983b7b6c46b3987536aa38d32');
    assert($row['tokenId'] === 3 && $row['entry'] === 'tiki-index.php');
    assert($lib->getActiveToken('e2990f7983b7b6c46b3987536aa38d32')['tokenId'] === 3);
    assert($lib->getToken('91bba2f998b48fce0146016809886127')['tokenId'] === 2, 'expired, but its row');
    assert($lib->getActiveToken('91bba2f998b48fce0146016809886127') === null, 'expired');
    assert($lib->getToken('823bde97a717c55b2cfbf9fbd6c81816') === null, 'does not verify');
    assert($lib->getToken(['x']) === null && $lib->getToken(null) === null);
    sql($dsn, 'UPDATE tiki_auth_tokens SET hits = 0 WHERE tokenId = 3');
    assert($lib->getActiveToken('e2990f7983b7b6c46b3987536aa38d32') === null, 'no hits left');
    sql($dsn, 'UPDATE tiki_auth_tokens SET hits = -1 WHERE tokenId = 3');
    assert($lib->getActiveToken('e2990f7983b7b6c46b3987536aa38d32')['hits'] === -1, 'unlimited');
    $fresh = $lib->createToken('/f.php', [], ['G'], ['timeout' => 100]);
    assert($lib->getActiveToken($fresh)['timeout'] === 100);
    assert(array_column($lib->getTokens(), 'tokenId') === [2, 1, 3, 4]);
});

test('getGroups: ok, lastDenial, empty groups, createUser without Tiki', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['maxHits' => 10, 'purgeInterval' => 3600]);
    $token = $lib->createToken('/tiki/tiki-index.php', ['page' => 'P'], ['Registered'], ['hits' => 2]);
    assert($lib->getGroups($token, '/tiki/tiki-index.php', ['page' => 'P', 'TOKEN' => $token]) === ['Registered']);
    assert($lib->ok === true && $lib->lastDenial === null && $lib->lastDenialDetail === null);
    assert($lib->getGroups($token, '/tiki/tiki-index.php', ['page' => 'Q']) === null);
    assert($lib->ok === false && $lib->lastDenial === 'params_mismatch' && is_string($lib->lastDenialDetail));
    $none = $lib->createToken('/n.php', [], []);
    assert($lib->getGroups($none, '/n.php', []) === null && $lib->lastDenial === 'no_groups' && $lib->ok === false);
    $user = $lib->createToken('/u.php', [], ['G'], ['createUser' => 'y', 'userPrefix' => 'guest']);
    assert($lib->getGroups($user, '/u.php', []) === ['G'] && $lib->ok === true, 'without TikiLib: no autologin');
    assert($lib->getGroups(['array'], '/u.php', []) === null && $lib->lastDenial === 'malformed');
    assert($lib->getGroups($token, 5, []) === null && $lib->lastDenial === 'malformed');
    assert($lib->getGroups($token, '/tiki/tiki-index.php', 'page=P') === null && $lib->lastDenial === 'malformed');
});

test('every reason the drop-in reports is one of the core list', function () {
    $reasons = \TikiTokens\Denial::reasons();
    foreach (['malformed', 'unknown', 'bad_signature', 'expired', 'exhausted', 'entry_mismatch',
        'params_mismatch', 'lost_race', 'database_error', 'internal_error', 'no_groups',
        'method_not_allowed', 'cookie_override', 'dropped_input', 'token_not_in_query'] as $r) {
        assert(in_array($r, $reasons, true), "$r missing from Denial::reasons()");
    }
    // Every literal reason AuthTokens.php passes to deny() is in the list.
    preg_match_all("/deny\\('([a-z_]+)'/", file_get_contents(__DIR__ . '/../AuthTokens.php'), $m);
    assert(count($m[1]) >= 2, 'the drop-in names its own reasons');
    foreach ($m[1] as $r) {
        assert(in_array($r, $reasons, true), "AuthTokens reports $r, which Denial::reasons() lacks");
    }
});

test('getGroups: the purge runs at most once per purgeInterval per process', function () {
    $dsn = fresh_db('trunk');
    $every = new AuthTokens($dsn, ['maxHits' => 10, 'purgeInterval' => 0]);
    $u1 = $every->createToken('/a.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'g', 'hits' => 1]);
    $every->getGroups($u1, '/a.php', []); // its one hit; the purge before it removed rows 1 and 2
    assert($every->purgedUsers === []);
    assert(array_column(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens ORDER BY tokenId'), 'tokenId') === ['3', '4']);
    $every->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []);
    assert($every->purgedUsers === [temp_user('g', 4)], 'row 4 was used up');
    assert(array_column(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens'), 'tokenId') === ['3']);

    $dsn2 = fresh_db('trunk');
    $hourly = new AuthTokens($dsn2, ['purgeInterval' => 3600]);
    $hourly->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []);
    assert(count(sql($dsn2, 'SELECT tokenId FROM tiki_auth_tokens')) === 1, 'the first call purges');
    sql($dsn2, "UPDATE tiki_auth_tokens SET hits = 0 WHERE tokenId = 3");
    (new AuthTokens($dsn2, ['purgeInterval' => 3600]))->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []);
    assert(count(sql($dsn2, 'SELECT tokenId FROM tiki_auth_tokens')) === 1, 'not again within the hour, even from a new object');
});

test('getGroups: a malformed token never triggers the purge', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['maxHits' => 10, 'purgeInterval' => 0]);
    $lib->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []); // purges the fixture
    $used = $lib->createToken('/m.php', [], ['G'], ['hits' => 1]);
    sql($dsn, 'UPDATE tiki_auth_tokens SET hits = 0');
    $rows = count(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens'));
    assert($rows >= 1, 'a used-up row to purge');
    foreach (['', 'abc', str_repeat('a', 31), str_repeat('a', 33), str_repeat('g', 32), str_repeat('a', 63) . 'z', ['x'], null, 42] as $bad) {
        assert($lib->getGroups($bad, '/m.php', []) === null && $lib->lastDenial === 'malformed');
        assert(count(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens')) === $rows, 'no purge for ' . var_export($bad, true));
    }
    assert($lib->getGroups(str_repeat('a', 32), '/m.php', []) === null && $lib->lastDenial === 'unknown');
    assert(count(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens')) === 0, 'a well-formed token purges (interval 0)');
});

test('createToken: Tiki arguments and trunk data', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['maxTimeout' => 7200, 'maxHits' => 10]);
    $token = $lib->createToken('/e.php', ['a' => '1'], ['G1', 'G2'], [
        'timeout' => 60, 'hits' => 4, 'email' => 'e@x.y', 'createUser' => 'y', 'userPrefix' => 'pre', 'user' => 'maker',
    ], ['report' => 7]);
    assert(is_string($token) && strlen($token) === 64);
    $row = last_row($dsn);
    assert($row['timeout'] === '60' && $row['hits'] === '4' && $row['maxhits'] === '4' && $row['email'] === 'e@x.y');
    assert($row['createUser'] === 'y' && $row['userPrefix'] === 'pre' && $row['user'] === 'maker');
    assert($row['data'] === '{"report":7}' && $row['groups'] === '["G1","G2"]' && $row['parameters'] === '{"a":"1"}');
    $lib->createToken('/e.php', [], ['G'], ['createUser' => 'n']);
    assert(last_row($dsn)['createUser'] === 'n' && last_row($dsn)['data'] === null);
    $lib->createToken('/e.php', [], ['G'], ['timeout' => 0, 'hits' => 0]);
    assert(last_row($dsn)['timeout'] === '7200' && last_row($dsn)['hits'] === '10', '0 = the cap, as Tiki');
});

test('includeToken: Tiki 24 argument order', function () {
    $dsn = fresh_db('tiki24');
    $lib = new AuthTokens($dsn, ['maxTimeout' => 7200, 'maxHits' => 10]);
    $url = $lib->includeToken('https://site.example/tiki/tiki-index.php?page=Some%20Page&x[]=1#part', ['Registered'], 'to@x.y', 120, 3, true, 'visitor');
    assert(preg_match('#^https://site\.example/tiki/tiki-index\.php\?page=Some\+Page&x%5B0%5D=1&TOKEN=([0-9a-f]{32})\#part$#', $url, $m) === 1, $url);
    $row = last_row($dsn);
    assert($row['entry'] === '/tiki/tiki-index.php' && $row['parameters'] === '{"page":"Some Page","x":["1"]}');
    assert($row['timeout'] === '120' && $row['hits'] === '3' && $row['email'] === 'to@x.y');
    assert($row['createUser'] === 'y' && $row['userPrefix'] === 'visitor' && $row['token'] === $m[1]);
    $lib->includeToken('http://site.example/a.php');
    $row = last_row($dsn);
    assert($row['userPrefix'] === 'guest' && $row['createUser'] === 'n' && $row['email'] === '' && $row['groups'] === '[]');
    assert($lib->getTokenFromUrl($url)['token'] === $m[1], 'the row of the URL\'s token');
});

test('createToken and includeToken: allowPost', function () {
    $lib = new AuthTokens(fresh_db('trunk'), ['maxHits' => 10]);
    $token = $lib->createToken('/tiki-index.php', ['page' => 'P'], ['G'], ['allowPost' => true], ['k' => 'v']);
    assert($lib->getToken($token)['data'] === '{"k":"v","allowPost":true}');
    $url = $lib->includeToken('http://site.example/tiki-index.php?page=P', ['G'], '', 0, 0, false, 'guest', [], true);
    assert($lib->getTokenFromUrl($url)['data'] === '{"allowPost":true}');
    $url = $lib->includeToken('http://site.example/tiki-index.php?page=P', ['G'], '', 0, 0, false, 'guest', [], 'yes');
    $row = $lib->getTokenFromUrl($url);
    assert(is_array($row) && ! isset($row['data']), 'only true allows POST');
    $old = new AuthTokens(fresh_db('tiki24'), ['maxHits' => 10]);
    throws(TikiTokens\InvalidInputException::class, fn () => $old->createToken('/tiki-index.php', [], ['G'], ['allowPost' => true]));
    assert(is_string($old->createToken('/tiki-upload_file.php', ['galleryId' => '1'], ['G'], ['allowPost' => true])));
});

test('getTokenFromUrl: the row of the URL\'s TOKEN (Tiki trunk), null without one', function () {
    $lib = new AuthTokens(fresh_db('tiki24'));
    $row = $lib->getTokenFromUrl('http://x/y.php?a=1&TOKEN=e2990f7983b7b6c46b3987536aa38d32#f');
    assert(is_array($row) && $row['tokenId'] === 3, print_r($row, true));
    assert($lib->getTokenFromUrl('http://x/y.php?a=1&TOKEN=abc#f') === null, 'no such token');
    assert($lib->getTokenFromUrl('http://x/y.php?token=e2990f7983b7b6c46b3987536aa38d32') === null);
    assert($lib->getTokenFromUrl('http://x/y.php?TOKEN[]=e2990f7983b7b6c46b3987536aa38d32') === null);
    assert($lib->getTokenFromUrl('http://x/y.php') === null);
});

test('deleteToken, deleteExpired', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['purgeInterval' => 3600]);
    $lib->createToken('/d.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'x']);
    $lib->deleteToken(4);
    assert($lib->purgedUsers === [temp_user('x', 4)]);
    $lib->deleteToken('3');
    assert($lib->purgedUsers === []);
    assert(array_column(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens ORDER BY tokenId'), 'tokenId') === ['1', '2']);
    assert($lib->deleteExpired() === true && $lib->purgedUsers === []);
    assert(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens') === []);
});

test('rotateSigningSecret, revokeAllTokens', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['maxHits' => 5, 'purgeInterval' => 3600]);
    $token = $lib->createToken('/r.php', [], ['G'], ['hits' => 5, 'createUser' => 1, 'userPrefix' => 'r']);
    assert($lib->rotateSigningSecret(false) === 0);
    assert(count($lib->getTokens()) === 4, 'rotating without revoking removes no row');
    assert($lib->getGroups($token, '/r.php', []) === null && $lib->lastDenial === 'bad_signature');
    $fresh = $lib->createToken('/r.php', [], ['G']);
    assert($lib->getGroups($fresh, '/r.php', []) === ['G']);
    $rows = count($lib->getTokens()); // the lookups purged the fixture's expired rows
    assert($rows === 3, "$rows rows");
    assert($lib->revokeAllTokens() === $rows);
    assert($lib->getTokens() === [] && $lib->purgedUsers === [temp_user('r', 4)]);
    $lib->createToken('/r.php', [], ['G']);
    assert($lib->rotateSigningSecret(true) === 1);
    assert($lib->getTokens() === []);
});

done();
