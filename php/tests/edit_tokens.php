<?php
/**
 * Editing tokens and Tiki's admin form, through real PHP (issue 16, SPEC section 9):
 * TikiTokens\Store::edit() and reissue(), AuthTokens::editToken(), the recognition of a
 * createToken() call made by Tiki's "Admin Tokens" form, and two races over real HTTP (php -S
 * with 16 workers and the token gate php/www/token_gate.php): 16 concurrent requests against an
 * "add N hits" edit, and a re-issue under load.
 */
require __DIR__ . '/lib/harness.php';
require __DIR__ . '/../AuthTokens.php';

use TikiTokens\InvalidInputException;
use TikiTokens\Store;

/** A token for $url with $hits, and its id. */
function mint(AuthTokens $lib, string $url, int $hits): array
{
    $withToken = $lib->includeToken($url, ['Registered'], 'a@example.org', 3600, $hits, true, '_guest');
    $row = $lib->getTokenFromUrl($withToken); // Tiki trunk's contract: the row
    return [$row['tokenId'], $row['token'], $withToken];
}

test('Store::edit: fields outside the value, in place; the link stays', function () {
    $dsn = fresh_db('trunk', false);
    $store = new Store($dsn, ['maxHits' => -1]);
    $c = $store->create('/tiki/tiki-index.php', ['page' => 'Caf' . "\u{e9}", 'l' => ['2', '3']], ['Registered'], ['hits' => 5]);
    $row = $store->edit($c['tokenId'], ['addHits' => 10, 'maxHits' => 40, 'email' => 'x@example.org',
        'createUser' => true, 'userPrefix' => '_p', 'data' => ['k' => 'v']]);
    assert($row['hits'] === 15 && $row['maxhits'] === 40 && $row['email'] === 'x@example.org');
    assert($row['createUser'] === 'y' && $row['userPrefix'] === '_p' && $row['data'] === '{"k":"v"}');
    assert($row['token'] === $c['token'], 'the same token');
    assert($row['url'] === '/tiki/tiki-index.php?page=Caf%C3%A9&l%5B0%5D=2&l%5B1%5D=3&TOKEN=' . $c['token'], $row['url']);
    $bound = TikiTokens\canonical_url($row['url']);
    $g = $store->lookup($c['token'], $bound['entry'], $bound['params']);
    assert($g instanceof TikiTokens\Grant && $g->hitsLeft === 14 && $g->tempUser === '_p' . sprintf('%06d', $c['tokenId'] * 531441 % 1000000));
    assert($store->edit($c['tokenId'], ['hits' => -1])['hits'] === -1);
    assert($store->edit($c['tokenId'], ['addHits' => 3])['hits'] === -1, 'unlimited stays unlimited');
    $store->edit($c['tokenId'], ['data' => null]);
    assert(! array_key_exists('data', $store->edit($c['tokenId'], [])), 'NULL data is not shown, as by get()');
    assert($store->edit(987654, ['hits' => 3]) === null, 'no such token');
});

test('Store::edit and reissue: changes checked like create options, nothing written on refusal', function () {
    $dsn = fresh_db('tiki24', false);
    $store = new Store($dsn);
    $c = $store->create('/x.php', [], ['G'], ['hits' => 5, 'email' => 'e@example.org']);
    $before = sql($dsn, 'SELECT * FROM tiki_auth_tokens');
    throws(InvalidInputException::class, fn () => $store->edit($c['tokenId'], ['hitz' => 1]), 'unknown option');
    throws(InvalidInputException::class, fn () => $store->reissue($c['tokenId'], ['group' => ['A']]), 'unknown option');
    throws(InvalidInputException::class, fn () => $store->edit($c['tokenId'], ['hits' => '5']), 'int');
    throws(InvalidInputException::class, fn () => $store->edit($c['tokenId'], ['hits' => 1, 'addHits' => 1]), 'not both');
    throws(InvalidInputException::class, fn () => $store->edit($c['tokenId'], ['addHits' => 1, 'email' => str_repeat('e', 256)]), '`email`');
    throws(InvalidInputException::class, fn () => $store->edit($c['tokenId'], ['addHits' => 1, 'data' => ['a' => 1]]), 'data column');
    throws(InvalidInputException::class, fn () => $store->edit($c['tokenId'], ['addHits' => 1, 'groups' => ['A']]), 're-issue');
    throws(InvalidInputException::class, fn () => $store->edit($c['tokenId'], ['createUser' => 'y']), 'bool');
    throws(InvalidInputException::class, fn () => $store->reissue($c['tokenId'], ['groups' => [['A']]]), 'strings');
    throws(InvalidInputException::class, fn () => $store->reissue($c['tokenId'], ['params' => ['f' => 1.5]]), 'float');
    throws(InvalidInputException::class, fn () => $store->reissue($c['tokenId'], ['entry' => str_repeat('a', 51)]), '`entry`');
    throws(InvalidInputException::class, fn () => $store->reissue($c['tokenId'], ['url' => 'x.php?a=1']), 'relative');
    throws(\TypeError::class, fn () => $store->edit($c['tokenId'], 'hits=3'));
    assert(sql($dsn, 'SELECT * FROM tiki_auth_tokens') === $before, 'nothing written');
    assert($store->reissue(987654, ['groups' => ['A']]) === null);
});

test('Store::reissue: a new token and link, the rest carried over, the old one revoked', function () {
    $dsn = fresh_db('trunk', false);
    $store = new Store($dsn, ['maxHits' => -1]);
    $c = $store->create('/tiki/tiki-index.php', ['page' => 'A'], ['Registered'],
        ['hits' => 7, 'email' => 'e@example.org', 'createUser' => true, 'userPrefix' => '_p', 'user' => 'admin', 'data' => ['n' => 1]]);
    $old = $store->get($c['token']);
    $r = $store->reissue($c['tokenId'], ['url' => 'https://site.example/tiki/tiki-index.php?page=B+C&TOKEN=ignored', 'groups' => ['Editors']]);
    assert(array_keys($r) === ['tokenId', 'token', 'scheme', 'url', 'revokedTokenId', 'revokedTempUser', 'row']);
    assert($r['revokedTokenId'] === $c['tokenId'] && $r['tokenId'] > $c['tokenId'] && $r['scheme'] === 'signed');
    assert($r['revokedTempUser'] === '_p' . sprintf('%06d', $c['tokenId'] * 531441 % 1000000));
    assert($r['url'] === '/tiki/tiki-index.php?page=B+C&TOKEN=' . $r['token'], $r['url']);
    assert($store->get($c['token']) === null, 'the old token is gone');
    $new = $r['row'];
    foreach (['hits', 'maxhits', 'email', 'createUser', 'userPrefix', 'user', 'data'] as $k) {
        assert($new[$k] === $old[$k], "$k carried over");
    }
    assert($new['parameters'] === '{"page":"B C"}' && $new['groups'] === '["Editors"]');
    assert($new['token'] === token_of_row($new, stored_secret($dsn)), "Tiki's own HMAC");
    $g = $store->lookup($r['token'], '/tiki/tiki-index.php', ['page' => 'B C']);
    assert($g instanceof TikiTokens\Grant && $g->groups === ['Editors']);
    $d = $store->lookup($c['token'], '/tiki/tiki-index.php', ['page' => 'A']);
    assert($d instanceof TikiTokens\Denial && $d->reason === 'unknown');
});

test('AuthTokens::editToken: in place, or re-issued with the old token revoked', function () {
    $dsn = fresh_db('trunk', false);
    $lib = new AuthTokens($dsn, ['maxHits' => 10, 'purgeInterval' => 3600]);
    [$id, $token, $url] = mint($lib, '/tiki/tiki-index.php?page=Edit', 2);
    $e = $lib->editToken($id, ['addHits' => 3, 'email' => 'b@example.org', 'createUser' => 'n']);
    assert($e === ['tokenId' => $id, 'token' => $token, 'url' => $url, 'reissued' => false, 'revokedTokenId' => null], json_encode($e));
    $row = $lib->getToken($token);
    assert($row['hits'] === 5 && $row['email'] === 'b@example.org' && $row['createUser'] === 'n');
    $lib->editToken($id, ['createUser' => 'y']);
    assert($lib->getToken($token)['createUser'] === 'y');
    $r = $lib->editToken($id, ['timeout' => 60, 'hits' => 4]);
    assert($r['reissued'] === true && $r['revokedTokenId'] === $id && $r['tokenId'] !== $id);
    assert($lib->getToken($token) === null && $lib->getToken($r['token'])['timeout'] === 60);
    assert($lib->getToken($r['token'])['hits'] === 4);
    assert($r['url'] === '/tiki/tiki-index.php?page=Edit&TOKEN=' . $r['token']);
    assert($lib->purgedUsers === ['_guest' . sprintf('%06d', $id * 531441 % 1000000)], 'the old temporary user');
    assert($lib->getGroups($r['token'], '/tiki/tiki-index.php', ['page' => 'Edit']) === ['Registered']);
    assert($lib->editToken(987654, ['addHits' => 1]) === null && $lib->editToken(987654, ['groups' => ['G']]) === null);
});

test("createToken from Tiki's admin form mints from the typed URL; any other call as before", function () {
    $dsn = fresh_db('tiki24', false);
    $lib = new AuthTokens($dsn, ['maxHits' => 10]);
    $typed = 'http://site.example/tiki/tiki-index.php?page=My+Page&l[]=2&l[]=3&q="x"';
    // What Tiki 24's form passes: the path, and a query split without decoding.
    $formParams = ['page' => 'My+Page', 'l[]' => '3', 'q' => ''];
    $saved = [$_SERVER, $_POST];
    try {
        $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/tiki/tiki-admin_tokens.php';
        $_POST = ['entry' => $typed, 'action' => 'add'];
        $token = $lib->createToken('/tiki/tiki-index.php', $formParams, ['Registered'], ['timeout' => '3600', 'hits' => '5']);
        $row = $lib->getToken($token);
        assert($row['parameters'] === '{"page":"My Page","l":["2","3"],"q":"\"x\""}', $row['parameters']);
        assert($row['hits'] === 5 && $row['timeout'] === 3600);
        assert($lib->getGroups($token, '/tiki/tiki-index.php', ['page' => 'My Page', 'l' => ['2', '3'], 'q' => '"x"']) === ['Registered']);
        // Trunk's form: FILTER_SANITIZE_URL dropped the space of the path.
        $_POST['entry'] = 'http://site.example/my dir/tiki-index.php?page=A';
        $token = $lib->createToken('/mydir/tiki-index.php', ['page' => 'A'], ['Registered']);
        assert($lib->getToken($token)['entry'] === '/my dir/tiki-index.php');
        // The entry is not the typed URL's path: createToken's normal contract.
        $_POST['entry'] = $typed;
        $token = $lib->createToken('/tiki/other.php', ['page' => 'My+Page'], ['Registered']);
        $row = $lib->getToken($token);
        assert($row['entry'] === '/tiki/other.php' && $row['parameters'] === '{"page":"My+Page"}');
        // Another script: the normal contract too.
        $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/tiki/tiki-index.php';
        $token = $lib->createToken('/tiki/tiki-index.php', ['page' => 'My+Page'], ['Registered']);
        assert($lib->getToken($token)['parameters'] === '{"page":"My+Page"}');
        // No typed URL (or not a string): the normal contract.
        $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/tiki/tiki-admin_tokens.php';
        $_POST = ['entry' => ['x']];
        $token = $lib->createToken('/tiki/tiki-index.php', ['page' => 'B'], ['Registered']);
        assert($lib->getToken($token)['parameters'] === '{"page":"B"}');
        // A SEF URL typed in the form (the form passes its path as the entry): bound to what
        // Tiki's router serves there, as includeToken binds it.
        $sef = new AuthTokens($dsn, ['maxHits' => 10, 'tikiRoot' => '/tiki/']);
        $_POST = ['entry' => 'http://site.example/tiki/My+Page', 'action' => 'add'];
        $token = $sef->createToken('/tiki/My+Page', [], ['Registered']);
        $row = $sef->getToken($token);
        assert($row['entry'] === '/tiki/tiki-index.php' && $row['parameters'] === '{"page":"My Page"}', json_encode($row));
        assert($sef->getGroups($token, '/tiki/tiki-index.php', ['page' => 'My Page']) === ['Registered']);
        assert($sef->getGroups($token, '/tiki/tiki-index.php', ['page' => 'Other']) === null && $sef->lastDenial === 'params_mismatch', $sef->lastDenial);
        // A typed URL the store cannot use is a clear error, no row.
        $_POST = ['entry' => 'tiki-index.php?page=B'];
        $rows = (int) sql_one($dsn, 'SELECT COUNT(*) FROM tiki_auth_tokens');
        throws(InvalidInputException::class, fn () => $lib->createToken('tiki-index.php', ['page' => 'B'], ['Registered']), 'relative');
        assert((int) sql_one($dsn, 'SELECT COUNT(*) FROM tiki_auth_tokens') === $rows);
    } finally {
        [$_SERVER, $_POST] = $saved;
    }
});

// ---- Over real HTTP: php -S with 16 workers serving php/www (the token gate) -----------------

/** Starts php -S on php/www with the extension; returns [process, port]. */
function start_server(string $dsn)
{
    $probe = stream_socket_server('tcp://127.0.0.1:0');
    $port = (int) substr(strrchr(stream_socket_get_name($probe, false), ':'), 1);
    fclose($probe);
    // In a session (and process group) of its own, so that stop_server() stops its 16 forked
    // workers too; with the run's marker, so that the test command's leftover check sees them.
    $cmd = ['setsid', PHP_BINARY, '-n', '-d', 'extension=' . getenv('TIKI_TOKENS_EXT'), '-d', 'display_errors=0',
        '-S', "127.0.0.1:$port", '-t', repo() . '/php/www'];
    $env = ['PHP_CLI_SERVER_WORKERS' => '16', 'TIKI_TOKENS_DSN' => $dsn, 'TIKI_TOKENS_PURGE_INTERVAL' => '3600',
        'PATH' => getenv('PATH'), 'TIKI_TOKENS_TEST_RUN' => (string) getenv('TIKI_TOKENS_TEST_RUN')];
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, $env);
    assert(is_resource($proc), 'php -S started');
    for ($i = 0; $i < 200; $i++) {
        $s = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 1);
        if ($s) {
            fclose($s);
            return [$proc, $port];
        }
        usleep(50000);
    }
    stop_server($proc);
    throw new \RuntimeException("php -S did not start on $port");
}

/** Stops php -S and every worker it forked (its whole process group), and waits for it. */
function stop_server($proc): void
{
    $pid = proc_get_status($proc)['pid'];
    // setsid made php -S the leader of its own group: -PID is the group.
    $kill = proc_open(['kill', '-TERM', '--', "-$pid"], [], $pipes);
    if (is_resource($kill)) {
        proc_close($kill);
    }
    proc_close($proc);
}

/** Sends one GET per target at once (each on its own connection); returns the sockets. */
function send_all(int $port, array $targets): array
{
    $socks = [];
    foreach ($targets as $t) {
        $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 10);
        assert($s !== false, $errstr);
        fwrite($s, "GET $t HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        $socks[] = $s;
    }
    return $socks;
}

/** Reads every response of send_all(); returns their status codes. */
function statuses(array $socks): array
{
    $out = [];
    foreach ($socks as $i => $s) {
        stream_set_timeout($s, 30);
        $resp = stream_get_contents($s);
        fclose($s);
        $out[$i] = (int) (explode(' ', $resp, 3)[1] ?? 0);
        assert(in_array($out[$i], [200, 403], true), "response: $resp");
    }
    return $out;
}

function grants(array $statuses): int
{
    return count(array_filter($statuses, fn ($s) => $s === 200));
}

test('HTTP: 16 concurrent requests against an "add 5 hits" edit grant exactly 8 + 5', function () {
    $dsn = fresh_db('trunk', false);
    $lib = new AuthTokens($dsn, ['maxHits' => 100]);
    [$proc, $port] = start_server($dsn);
    try {
        // Most workers make their first purge now, not in the race below.
        [, , $warm] = mint($lib, '/tiki-index.php?page=Warm', 100);
        statuses(send_all($port, array_fill(0, 32, $warm)));
        [$id, $token, $url] = mint($lib, '/tiki-index.php?page=Race', 8);
        $round1 = send_all($port, array_fill(0, 16, $url));
        $edit = $lib->editToken($id, ['addHits' => 5]);
        $first = grants(statuses($round1));
        $second = grants(statuses(send_all($port, array_fill(0, 16, $url))));
        // The edit races the requests: it lands before the 8th grant, or after it (a used-up
        // token, revived by the add), or after a worker's first purge deleted the used-up row
        // (each php -S worker purges on its first request): then there is nothing to edit.
        $added = $edit === null ? 0 : 5;
        echo "  16 concurrent requests, add 5 while they ran: $first granted; then $second of 16 more; total " . ($first + $second) . ' (hits 8 + ' . ($edit === null ? '0: the used-up row was purged first' : '5') . ")\n";
        assert($edit === null || ($edit['reissued'] === false && $edit['token'] === $token), json_encode($edit));
        assert($first + $second === 8 + $added, "granted $first + $second");
        // Used up: gone at the token gate's next purge (as in Tiki), or still there with 0 hits.
        assert(in_array(sql_one($dsn, "SELECT hits FROM tiki_auth_tokens WHERE tokenId = $id"), [null, '0'], true));
    } finally {
        stop_server($proc);
    }
});

test('HTTP: a re-issue under load; the old token never granted after it returned', function () {
    $dsn = fresh_db('tiki24', false);
    $lib = new AuthTokens($dsn, ['maxHits' => 1000]);
    [$proc, $port] = start_server($dsn);
    try {
        [$id, $token, $url] = mint($lib, '/tiki-index.php?page=Load', 300);
        $before = 0;
        for ($i = 0; $i < 3; $i++) {
            $before += grants(statuses(send_all($port, array_fill(0, 16, $url))));
        }
        $inFlight = send_all($port, array_fill(0, 16, $url));
        $r = $lib->editToken($id, ['groups' => ['Editors']]);
        $during = grants(statuses($inFlight));
        $after = 0;
        for ($i = 0; $i < 4; $i++) {
            $after += grants(statuses(send_all($port, array_fill(0, 16, $url))));
        }
        $newHits = $lib->getToken($r['token'])['hits'];
        echo "  300 hits: $before granted in 3 rounds of 16 before, $during of 16 in flight during the re-issue, $after of 64 after it returned; the new token got $newHits hits\n";
        assert($r['reissued'] === true && $r['revokedTokenId'] === $id);
        assert($after === 0, "the old token was granted $after times after the re-issue returned");
        assert($before + $during + $newHits === 300, 'old grants + new hits = the old hits');
        $new = grants(statuses(send_all($port, [$r['url']])));
        assert($new === 1, 'the new link works: ' . $r['url']);
        $body = stream_get_contents(send_all($port, [$r['url']])[0]);
        assert(strpos($body, '["Editors"]') !== false, $body);
    } finally {
        stop_server($proc);
    }
});

done();
