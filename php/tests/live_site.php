<?php
/**
 * The drop-in as a live Tiki site uses it (issue 11): Tiki trunk's method contract (ported from
 * the behaviour of trunk's Tiki\Lib\Auth\Tokens and its tests: rotate with and without
 * revocation, active / used-up / expired), the secret from Tiki's cached preferences, a table
 * migrated (or dropped and created again) by another process under a running PHP, and one time
 * budget per lookup, purge included, with no hit consumed by a lookup denied for lack of time.
 */
require __DIR__ . '/lib/harness.php';
require __DIR__ . '/../AuthTokens.php';

use TikiTokens\Denial;
use TikiTokens\Grant;
use TikiTokens\Store;

const TEST_SECRET = 'test-auth-token-secret'; // trunk.sql seeds it

/** Tiki's preference layer, as much of it as the drop-in uses: set_preference() writes the row. */
final class FakeTikiPrefs
{
    public $dsn;
    public $set = [];

    public function set_preference($name, $value)
    {
        $this->set[] = [$name, $value];
        sql($this->dsn, "REPLACE INTO tiki_preferences (name, value) VALUES ('$name', '$value')");
        $GLOBALS['prefs'][$name] = $value;
        return true;
    }
}

final class TikiLib
{
    public static $libs = [];

    public static function lib($name)
    {
        return self::$libs[$name] ?? null;
    }
}

function hits_of(string $dsn, int $id): int
{
    return (int) sql_one($dsn, "SELECT hits FROM tiki_auth_tokens WHERE tokenId = $id");
}

test('trunk: rotateSigningSecret() revokes every token by default and returns the count', function () {
    $dsn = fresh_db('tiki24');   // legacy MD5 tokens: unkeyed, so only revocation stops them
    $lib = new AuthTokens($dsn, ['maxHits' => 5, 'purgeInterval' => 3600]);
    $lib->getStore()->migrate();
    $legacy = 'e2990f7983b7b6c46b3987536aa38d32';
    assert($lib->getGroups($legacy, 'tiki-index.php', []) === ['Admins', 'Registered']);
    $signed = $lib->createToken('/r.php', [], ['G'], ['hits' => 5]);
    assert(strlen($signed) === 64);
    $rows = count($lib->getTokens()); // the fixture's live row, the minted one (the lookup purged the rest)
    assert($rows === 2, "$rows rows");
    $count = $lib->rotateSigningSecret();
    assert($count === $rows, "revoked $count, not every row");
    assert($lib->getTokens() === []);
    assert($lib->getGroups($legacy, 'tiki-index.php', []) === null, 'a copied legacy token stops working');
});

test('trunk: rotateSigningSecret(false) keeps the rows, returns 0; signed tokens stop, legacy ones stay', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['maxHits' => 5, 'purgeInterval' => 3600]);
    $signed = $lib->createToken('/r.php', [], ['G'], ['hits' => 5]);
    $before = stored_secret($dsn);
    assert($lib->rotateSigningSecret(false) === 0);
    assert(stored_secret($dsn) !== $before && preg_match('/^[0-9a-f]{64}$/', stored_secret($dsn)) === 1);
    assert(count($lib->getTokens()) === 4);
    assert($lib->getGroups($signed, '/r.php', []) === null && $lib->lastDenial === 'bad_signature');
    assert($lib->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []) !== null, 'legacy: unkeyed');
    $rows = count($lib->getTokens());
    assert($rows === 2, "$rows rows: the fixture's live row and the minted one (the lookups purged the rest)");
    assert($lib->revokeAllTokens() === $rows);
    assert($lib->revokeAllTokens() === 0);
});

test('trunk: getActiveToken — active, used up, expired, judged with the database clock', function () {
    // PHP's clock zone far from the database's: reading `creation` with PHP's strtotime() (what
    // the drop-in did) puts a fresh token 14 hours in the past, and calls it expired.
    $zone = date_default_timezone_get();
    date_default_timezone_set('Pacific/Kiritimati');
    try {
        $dsn = fresh_db('trunk');
        $lib = new AuthTokens($dsn, ['maxHits' => 5, 'purgeInterval' => 3600]);
        $active = $lib->createToken('/a.php', [], ['G'], ['timeout' => 3600, 'hits' => 2]);
        $row = $lib->getActiveToken($active);
        assert(is_array($row) && $row['hits'] === 2, 'active: ' . print_r($row, true));
        sql($dsn, "UPDATE tiki_auth_tokens SET hits = 0 WHERE token = '$active'");
        assert($lib->getActiveToken($active) === null, 'used up');
        assert($lib->getToken($active) !== null, 'but still its row');
        $expired = $lib->createToken('/e.php', [], ['G'], ['timeout' => 60, 'hits' => 2]);
        sql($dsn, "UPDATE tiki_auth_tokens SET creation = NOW() - INTERVAL 61 SECOND WHERE token = '$expired'");
        $resigned = resign($dsn, (int) sql_one($dsn, "SELECT tokenId FROM tiki_auth_tokens WHERE token = '$expired'"));
        assert($lib->getActiveToken($resigned) === null, 'expired');
        sql($dsn, "UPDATE tiki_auth_tokens SET creation = NOW() - INTERVAL 59 SECOND WHERE token = '$resigned'");
        $again = resign($dsn, (int) sql_one($dsn, "SELECT tokenId FROM tiki_auth_tokens WHERE token = '$resigned'"));
        assert($lib->getActiveToken($again) !== null, 'one second before its end');
        assert($lib->getActiveToken('e2990f7983b7b6c46b3987536aa38d32') !== null, 'timeout -1 never expires');
        assert($lib->getActiveToken(str_repeat('z', 32)) === null && $lib->getActiveToken([1]) === null);
    } finally {
        date_default_timezone_set($zone);
    }
});

test('trunk: deleteExpired($limit = -1) deletes every expired and used-up row', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['purgeInterval' => 3600]);
    $values = implode(',', array_map(fn ($i) => "(NOW() - INTERVAL 2 HOUR, 60, 1, 1, 'x', '/x.php', '', '[]', '[]')", range(1, 2500)));
    sql($dsn, "INSERT INTO tiki_auth_tokens (creation, timeout, hits, maxhits, token, entry, email, parameters, `groups`) VALUES $values");
    assert($lib->deleteExpired(10) === true);
    assert((int) sql_one($dsn, 'SELECT COUNT(*) FROM tiki_auth_tokens') === 2503 - 10, 'a limit is a limit');
    assert($lib->deleteExpired() === true);
    $left = array_column(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens'), 'tokenId');
    assert($left === ['3'], 'every expired row went, beyond the old default limit of 1000 a batch: ' . count($left));
});

test('the secret from Tiki\'s cached preferences: no table read, and rotation through Tiki\'s setter', function () {
    $dsn = fresh_db('trunk');
    $GLOBALS['prefs'] = ['auth_token_secret' => TEST_SECRET];
    try {
        // Inside Tiki: global $prefs holds the secret (build() passes $prefs['auth_token_secret']
        // the same way; the constructor reads $GLOBALS['prefs'] when no option names one).
        $lib = new AuthTokens($dsn, ['maxHits' => 5, 'purgeInterval' => 3600]);
        $token = $lib->createToken('/p.php', [], ['G'], ['hits' => 5]);
        // The table's secret changes behind Tiki's back; Tiki's cache still holds the old one,
        // and that is what Tiki trunk signs and verifies with.
        sql($dsn, "UPDATE tiki_preferences SET value = 'changed-behind-the-cache' WHERE name = 'auth_token_secret'");
        assert($lib->getGroups($token, '/p.php', []) === ['G'], 'verified with the cached preference: ' . $lib->lastDenial);
        $native = new Store($dsn, ['preferenceSecret' => TEST_SECRET]);
        assert($native->schemeInfo()['hasSecret'] === true);
        $outside = new Store($dsn);
        $d = $outside->lookup($token, '/p.php', []);
        assert($d instanceof Denial && $d->reason === 'bad_signature', 'outside Tiki the table is the source');

        // Inside Tiki, rotation goes through Tiki's preference setter.
        $prefs = new FakeTikiPrefs();
        $prefs->dsn = $dsn;
        TikiLib::$libs['tiki'] = $prefs;
        assert($lib->rotateSigningSecret(false) === 0);
        assert(count($prefs->set) === 1 && $prefs->set[0][0] === 'auth_token_secret');
        $new = $prefs->set[0][1];
        assert(preg_match('/^[0-9a-f]{64}$/', $new) === 1 && stored_secret($dsn) === $new);
        assert($lib->getGroups($token, '/p.php', []) === null && $lib->lastDenial === 'bad_signature');
        $fresh = $lib->createToken('/p.php', [], ['G'], ['hits' => 5]);
        assert($lib->getGroups($fresh, '/p.php', []) === ['G'], 'the same object signs with the new secret');
        $next = new AuthTokens($dsn, ['maxHits' => 5, 'purgeInterval' => 3600]);
        assert($next->getGroups($fresh, '/p.php', []) === ['G'], 'the next request: from the refreshed cache');
    } finally {
        unset($GLOBALS['prefs']);
        TikiLib::$libs = [];
    }
});

test('a table migrated by another process: the next creation mints what it allows, schemeInfo sees it', function () {
    $dsn = fresh_db('tiki24');
    $store = new Store($dsn);
    assert(strlen($store->create('/m.php', [], ['G'])['token']) === 32);
    assert($store->schemeInfo()['needsMigration'] === true);
    // Tiki's upgrade runs its migration from another process while this one keeps running.
    sql($dsn, "ALTER TABLE tiki_auth_tokens MODIFY entry MEDIUMTEXT, MODIFY parameters TEXT, "
        . "ADD COLUMN user VARCHAR(200) DEFAULT NULL, ADD COLUMN data TEXT DEFAULT NULL, "
        . "MODIFY token VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin;"
        . "INSERT IGNORE INTO tiki_preferences (name, value) VALUES ('auth_token_secret', '" . str_repeat('ab', 32) . "')");
    // schemeInfo (what phpinfo shows) sees the table as it is now, before any creation.
    $info = $store->schemeInfo();
    assert($info['needsMigration'] === false && $info['tokenWidth'] === 64 && $info['minting'] === 'signed', print_r($info, true));
    $made = $store->create('/m.php', [], ['G'], ['user' => 'admin', 'data' => ['k' => 'v']]);
    assert($made['scheme'] === 'signed' && strlen($made['token']) === 64, print_r($made, true));
    $row = $store->get($made['token']);
    assert($row['user'] === 'admin' && $row['data'] === '{"k":"v"}');
    assert($store->lookup($made['token'], '/m.php', []) instanceof Grant);

    // Dropped and created again (Tiki 24's layout): creation follows at once.
    sql($dsn, 'DROP TABLE tiki_auth_tokens;' . file_get_contents(repo() . '/tests/data/tiki24.sql'));
    assert($store->schemeInfo()['needsMigration'] === true);
    $again = $store->create('/m.php', [], ['G']);
    assert($again['scheme'] === 'legacy' && $again['tokenId'] === 1, print_r($again, true));
    assert($store->lookup($again['token'], '/m.php', []) instanceof Grant);
});

test('one budget per lookup: a row locked past the I/O timeout is a denial in time, and no hit goes', function () {
    $dsn = fresh_db('trunk', true, 'InnoDB');
    $store = new Store($dsn, ['ioTimeout' => 1, 'maxHits' => 5]);
    $t = $store->create('/l.php', [], ['G'], ['hits' => 3]);
    // Another session holds the row: the lookup's SELECT reads it (consistent read), its UPDATE
    // waits for the lock.
    $release = hold($dsn, "BEGIN; SELECT * FROM tiki_auth_tokens WHERE tokenId = {$t['tokenId']} FOR UPDATE;", 'COMMIT;');
    $start = microtime(true);
    $d = $store->lookup($t['token'], '/l.php', []);
    $took = microtime(true) - $start;
    $release();
    assert($d instanceof Denial && $d->reason === 'database_error', print_r($d, true));
    assert($took < 1.3, "answered after {$took} s, not within the 1 s budget");
    usleep(300000);
    assert(hits_of($dsn, $t['tokenId']) === 3, 'a hit was consumed after the denial: ' . hits_of($dsn, $t['tokenId']));
    assert($store->lookup($t['token'], '/l.php', []) instanceof Grant, 'and it works again');
    echo "row lock: denied in " . round($took * 1000) . " ms, hits untouched\n";
});

test('one budget per lookup, purge included: a read-locked MyISAM table', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['purgeInterval' => 0, 'maxHits' => 5]);
    $token = $lib->createToken('/p.php', [], ['G'], ['hits' => 3]);
    $id = (int) sql_one($dsn, "SELECT tokenId FROM tiki_auth_tokens WHERE token = '$token'");
    $lib = new AuthTokens($dsn, ['purgeInterval' => 0, 'maxHits' => 5, 'ioTimeout' => 1]);
    // Expired rows wait for the purge; the READ lock lets SELECTs through and holds every write.
    sql($dsn, "UPDATE tiki_auth_tokens SET hits = 0 WHERE tokenId = 1");
    $release = hold($dsn, 'LOCK TABLES tiki_auth_tokens READ, tiki_preferences READ;', 'UNLOCK TABLES;');
    $start = microtime(true);
    $groups = $lib->getGroups($token, '/p.php', []);
    $took = microtime(true) - $start;
    $release();
    assert($groups === null && $lib->lastDenial === 'database_error', (string) $lib->lastDenial);
    assert($took < 1.3, "purge + lookup answered after {$took} s, not within the 1 s budget");
    usleep(300000);
    assert(hits_of($dsn, $id) === 3, 'a hit was consumed after the denial');
    assert($lib->getGroups($token, '/p.php', []) === ['G']);
    echo "table lock with a purge due: denied in " . round($took * 1000) . " ms, hits untouched\n";
});

done();
