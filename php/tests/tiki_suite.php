<?php
/**
 * Tiki's own test suite for its AuthTokens class (lib/test/core/AuthTokensTest.php), ported to
 * the drop-in php/AuthTokens.php, run on Tiki 24's table and on trunk's, each with MyISAM and
 * InnoDB, each case on a fresh database holding Tiki's three fixture rows. Where Tiki's test
 * only checks null, the denial reason is checked too.
 */
require __DIR__ . '/lib/harness.php';
require __DIR__ . '/../AuthTokens.php';

/** Tiki's test object: default options, plus a purge before every lookup (Tiki's behaviour). */
function lib(string $dsn, array $options = []): AuthTokens
{
    return new AuthTokens($dsn, $options + ['purgeInterval' => 0]);
}

function row(string $dsn, int $tokenId): ?array
{
    $rows = sql($dsn, "SELECT * FROM tiki_auth_tokens WHERE tokenId = $tokenId");
    return $rows[0] ?? null;
}

foreach ([['tiki24', 'MyISAM'], ['trunk', 'MyISAM'], ['tiki24', 'InnoDB'], ['trunk', 'InnoDB']] as [$variant, $engine]) {
    $v = "$variant/$engine";
    $db = static function () use ($variant, $engine) {
        return fresh_db($variant, true, $engine);
    };
    $tokenLength = $variant === 'trunk' ? 64 : 32;

    test("$v: no token is denied", function () use ($db) {
        $lib = lib($db());
        assert($lib->getGroups('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'tiki-index.php', []) === null);
        assert($lib->ok === false);
        assert($lib->lastDenial === 'malformed'); // 31 characters: refused before any query
        assert($lib->getGroups(str_repeat('a', 32), 'tiki-index.php', []) === null);
        assert($lib->lastDenial === 'unknown');
    });

    test("$v: createToken writes the expected row", function () use ($db, $tokenLength, $variant) {
        $dsn = $db();
        $token = lib($dsn)->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered'], ['timeout' => 5]);
        assert(preg_match('/^[0-9a-f]{' . $tokenLength . '}$/', $token) === 1, $token);
        $row = row($dsn, 4);
        assert($row !== null, 'the new row is tokenId 4, after the three fixture rows');
        $expected = [
            'tokenId' => '4', 'timeout' => '5', 'hits' => '1', 'maxhits' => '1', 'token' => $token,
            'entry' => 'tiki-index.php', 'email' => '', 'parameters' => '{"page":"HomePage"}',
            // userPrefix: Tiki 24 writes '' when none is given; the store writes the column
            // default '_token' instead.
            'groups' => '["Registered"]', 'createUser' => 'n', 'userPrefix' => '_token',
        ];
        foreach ($expected as $column => $value) {
            assert($row[$column] === $value, "$column: " . var_export($row[$column], true));
        }
        if ($variant === 'trunk') {
            assert(array_key_exists('user', $row) && array_key_exists('data', $row));
        } else {
            assert(! array_key_exists('user', $row) && ! array_key_exists('data', $row));
        }
        assert(count(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens')) === 4);
    });

    test("$v: the token is the MD5/HMAC of its row", function () use ($db, $variant, $tokenLength) {
        $dsn = $db();
        $token = lib($dsn)->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
        $row = sql($dsn, 'SELECT tokenId, creation, timeout, entry, parameters, `groups` FROM tiki_auth_tokens ORDER BY tokenId DESC LIMIT 1')[0];
        $secret = $variant === 'trunk' ? stored_secret($dsn) : null;
        assert($variant !== 'trunk' || $secret === 'test-auth-token-secret');
        assert($token === token_of_row($row, $secret));
        assert(strlen($token) === $tokenLength);
    });

    test("$v: fixture tokens are Tiki's MD5 vectors", function () use ($db) {
        $dsn = $db();
        foreach ([2 => '91bba2f998b48fce0146016809886127', 3 => 'e2990f7983b7b6c46b3987536aa38d32'] as $id => $md5) {
            $row = row($dsn, $id);
            assert($row['token'] === $md5 && token_of_row($row) === $md5);
        }
    });

    test("$v: groups for the right entry and params", function () use ($db) {
        $lib = lib($db());
        $token = $lib->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']) === ['Registered']);
        assert($lib->ok === true && $lib->lastDenial === null);
    });

    test("$v: an expired token is denied", function () use ($db) {
        $dsn = $db();
        $lib = lib($dsn);
        // Judged before any purge (the store directly): found, verified, expired.
        $store = $lib->getStore();
        $denial = $store->lookup('91bba2f998b48fce0146016809886127', 'tiki-index.php', []);
        assert($denial instanceof TikiTokens\Denial && $denial->reason === 'expired');
        $token = $lib->createToken('tiki-index.php', [], ['Registered'], ['timeout' => 1]);
        sleep(2);
        $denial = $store->lookup($token, 'tiki-index.php', []);
        assert($denial instanceof TikiTokens\Denial && $denial->reason === 'expired');
        // Tiki's own check: a token that is not (or no longer) in the table.
        assert($lib->getGroups('946fc2fa0a5e1cecd54440ce733b8fb4', 'tiki-index.php', ['page' => 'HomePage']) === null);
        assert($lib->getGroups($token, 'tiki-index.php', []) === null);
        assert($lib->getGroups('91bba2f998b48fce0146016809886127', 'tiki-index.php', []) === null);
    });

    test("$v: altered data cancels", function () use ($db) {
        $dsn = $db();
        $lib = lib($dsn);
        $token = $lib->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
        sql($dsn, "UPDATE tiki_auth_tokens SET `groups` = '[\"Admins\"]'");
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']) === null);
        assert($lib->lastDenial === 'bad_signature');
    });

    test("$v: extra data cancels", function () use ($db) {
        $lib = lib($db());
        $token = $lib->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage', 'hello' => 'world']) === null);
        assert($lib->lastDenial === 'params_mismatch');
    });

    test("$v: missing data cancels", function () use ($db) {
        $lib = lib($db());
        $token = $lib->createToken('tiki-index.php', ['page' => 'HomePage', 'foobar' => 'baz'], ['Registered']);
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']) === null);
        assert($lib->lastDenial === 'params_mismatch');
    });

    test("$v: a differing entry cancels", function () use ($db) {
        $lib = lib($db());
        $token = $lib->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
        assert($lib->getGroups($token, 'tiki-print.php', ['page' => 'HomePage']) === null);
        assert($lib->lastDenial === 'entry_mismatch');
    });

    test("$v: a differing value cancels", function () use ($db) {
        $lib = lib($db());
        $token = $lib->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'Home']) === null);
        assert($lib->lastDenial === 'params_mismatch');
    });

    test("$v: no parameters", function () use ($db) {
        $lib = lib($db());
        $token = $lib->createToken('tiki-index.php', [], ['Registered']);
        assert($lib->getGroups($token, 'tiki-index.php', []) === ['Registered']);
    });

    test("$v: maximum timeout (maxTimeout 10, timeout 3600 -> 10)", function () use ($db) {
        $dsn = $db();
        lib($dsn, ['maxTimeout' => 10])->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered'], ['timeout' => 3600]);
        assert(sql_one($dsn, 'SELECT timeout FROM tiki_auth_tokens ORDER BY tokenId DESC LIMIT 1') === '10');
    });

    test("$v: one hit by default, then denied", function () use ($db) {
        $lib = lib($db());
        $token = $lib->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered']);
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']) === ['Registered']);
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']) === null);
        assert(in_array($lib->lastDenial, ['exhausted', 'unknown'], true)); // used up; purged rows are unknown
    });

    test("$v: several hits, then denied (maxHits 100, hits 3)", function () use ($db) {
        $lib = lib($db(), ['maxHits' => 100]);
        $token = $lib->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered'], ['hits' => 3]);
        $lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']);
        $lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']);
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']) === ['Registered']);
        assert($lib->getGroups($token, 'tiki-index.php', ['page' => 'HomePage']) === null);
    });

    test("$v: hits capped (maxHits 10, hits 3600 -> 10)", function () use ($db) {
        $dsn = $db();
        lib($dsn, ['maxHits' => 10])->createToken('tiki-index.php', ['page' => 'HomePage'], ['Registered'], ['hits' => 3600]);
        $row = sql($dsn, 'SELECT hits, maxhits FROM tiki_auth_tokens ORDER BY tokenId DESC LIMIT 1')[0];
        assert($row['hits'] === '10' && $row['maxhits'] === '10');
    });

    test("$v: includeToken", function () use ($db, $tokenLength) {
        $lib = lib($db());
        $new = $lib->includeToken('http://example.com/tiki/tiki-index.php?page=SomePage');
        assert(preg_match('/TOKEN=[a-f0-9]{' . $tokenLength . '}$/', $new) === 1, $new);
        assert(strpos($new, 'http://example.com/tiki/tiki-index.php?') === 0, $new);
        assert(strpos($new, 'page=SomePage') !== false, $new);
        $token = $lib->getTokenFromUrl($new)['token']; // trunk: the row of the URL's token
        assert($lib->getGroups($token, '/tiki/tiki-index.php', ['page' => 'SomePage']) === null, 'no groups given');
        assert($lib->lastDenial === 'no_groups');
    });

    test("$v: includeToken without a path", function () use ($db, $tokenLength) {
        $new = lib($db())->includeToken('http://example.com/tiki-index.php');
        assert(preg_match('/TOKEN=[a-f0-9]{' . $tokenLength . '}$/', $new) === 1, $new);
        assert(strpos($new, 'http://example.com/tiki-index.php') === 0, $new);
    });

    test("$v: includeToken with a fragment", function () use ($db, $tokenLength) {
        $new = lib($db())->includeToken('http://example.com/tiki-index.php#Test');
        assert(preg_match('/TOKEN=[a-f0-9]{' . $tokenLength . '}#Test$/', $new) === 1, $new);
    });

    test("$v: getTokens is empty on an empty table", function () use ($db) {
        $dsn = $db();
        sql($dsn, 'TRUNCATE tiki_auth_tokens');
        assert(lib($dsn)->getTokens() === []);
    });

    test("$v: getTokens returns every token, oldest first", function () use ($db) {
        $tokens = lib($db())->getTokens();
        assert(count($tokens) === 3);
        assert($tokens[0]['token'] === '91bba2f998b48fce0146016809886127');
        assert($tokens[1]['token'] === '823bde97a717c55b2cfbf9fbd6c81816');
        assert($tokens[2]['token'] === 'e2990f7983b7b6c46b3987536aa38d32');
        assert($tokens[2]['tokenId'] === 3 && $tokens[2]['creation'] === '2012-02-02 19:27:15');
    });

    test("$v: deleteToken", function () use ($db) {
        $dsn = $db();
        $lib = lib($dsn);
        $lib->createToken('tiki-user_send_reports.php', [], ['Registered']);
        $tokenId = (int) sql_one($dsn, 'SELECT tokenId FROM tiki_auth_tokens ORDER BY creation DESC, tokenId DESC LIMIT 1');
        $lib->deleteToken($tokenId);
        assert(sql($dsn, "SELECT entry FROM tiki_auth_tokens WHERE tokenId = $tokenId") === []);
        assert(count(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens')) === 3);
    });

    test("$v: getGroups deletes expired tokens", function () use ($db) {
        $dsn = $db();
        lib($dsn)->getGroups('91bba2f998b48fce0146016809886127', 'tiki-index.php', []);
        assert(array_column(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens ORDER BY tokenId'), 'tokenId') === ['3']);
    });

    test("$v: getGroups deletes tokens without hits left", function () use ($db) {
        $dsn = $db();
        sql($dsn, 'UPDATE tiki_auth_tokens SET maxhits = -1, hits = -1 WHERE tokenId = 1');
        sql($dsn, 'UPDATE tiki_auth_tokens SET maxhits = 10, hits = 0 WHERE tokenId = 3');
        lib($dsn)->getGroups('91bba2f998b48fce0146016809886127', 'tiki-index.php', []);
        // Rows 1 and 2 are expired by time, row 3 (never expires) is used up.
        assert(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens') === []);
    });

    test("$v: getGroups decrements hits (fixture row 3: 10 -> 9)", function () use ($db) {
        $dsn = $db();
        $lib = lib($dsn);
        assert($lib->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []) === ['Admins', 'Registered']);
        assert(sql_one($dsn, 'SELECT hits FROM tiki_auth_tokens WHERE tokenId = 3') === '9');
    });

    test("$v: unlimited hits are not decremented", function () use ($db) {
        $dsn = $db();
        sql($dsn, 'UPDATE tiki_auth_tokens SET maxhits = -1, hits = -1 WHERE tokenId = 3');
        $lib = lib($dsn);
        for ($i = 0; $i < 3; $i++) {
            assert($lib->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []) === ['Admins', 'Registered']);
        }
        assert(sql_one($dsn, 'SELECT hits FROM tiki_auth_tokens WHERE tokenId = 3') === '-1');
    });

    test("$v: rotating the secret without revoking", function () use ($db, $variant) {
        $dsn = $db();
        $lib = lib($dsn, ['maxHits' => 10]);
        $token = $lib->createToken('tiki-index.php', [], ['Registered'], ['hits' => 5]);
        $before = stored_secret($dsn);
        assert($lib->rotateSigningSecret(false) === 0); // trunk: revoking is the default
        $after = stored_secret($dsn);
        assert($after !== null && $after !== $before && preg_match('/^[0-9a-f]{64}$/', $after) === 1);
        assert(count(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens')) === 4, 'no row is removed');
        // Legacy MD5 tokens do not depend on the secret; signed ones do.
        assert($lib->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []) === ['Admins', 'Registered']);
        if ($variant === 'trunk') {
            assert($lib->getGroups($token, 'tiki-index.php', []) === null);
            assert($lib->lastDenial === 'bad_signature');
            $fresh = $lib->createToken('tiki-index.php', [], ['Registered']);
            assert(strlen($fresh) === 64 && $fresh === token_of_row(row($dsn, 5), $after));
            assert($lib->getGroups($fresh, 'tiki-index.php', []) === ['Registered']);
        } else {
            assert($lib->getGroups($token, 'tiki-index.php', []) === ['Registered']);
        }
    });

    test("$v: rotating the secret and revoking", function () use ($db) {
        $dsn = $db();
        $lib = lib($dsn);
        $lib->createToken('tiki-index.php', [], ['Registered'], ['createUser' => 'y', 'userPrefix' => 'guest']);
        $before = stored_secret($dsn);
        $lib->rotateSigningSecret(true);
        assert(stored_secret($dsn) !== $before);
        assert(sql($dsn, 'SELECT tokenId FROM tiki_auth_tokens') === []);
        assert($lib->purgedUsers === ['guest' . sprintf('%06d', 4 * 531441 % 1000000)]);
        assert($lib->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []) === null);
    });
}

done();
