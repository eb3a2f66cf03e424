<?php
/**
 * AuthTokens inside a (fake) Tiki: TikiLib's user library removes the temporary users of purged,
 * deleted and revoked tokens; a createUser token logs its temporary user in and redirects;
 * TikiDb::get() as $db finds the database through the INI DSN, or through the site's
 * db/local.php when the INI DSN is not set (checked in a child PHP without it).
 */
require __DIR__ . '/lib/harness.php';
require __DIR__ . '/../AuthTokens.php';

final class Redirected extends \Exception
{
}

/** Records what AuthTokens asks of Tiki's user library. */
final class FakeUserLib
{
    public $calls = [];
    public $existing = [];

    public function remove_temporary_user($name)
    {
        $this->calls[] = ['remove_temporary_user', $name];
    }

    public function user_exists($name)
    {
        $this->calls[] = ['user_exists', $name];
        return in_array($name, $this->existing, true);
    }

    public function genPass()
    {
        return 'random-pass';
    }

    public function add_user($user, $pass, $email, $provpass = '', $pass_first_login = false, $valid = null, $openid_url = null, $waiting = null, $groups = [])
    {
        $this->calls[] = ['add_user', $user, $email, $groups];
        $this->existing[] = $user;
    }

    public function autologin_user($user)
    {
        $this->calls[] = ['autologin_user', $user];
    }
}

final class FakeAccessLib
{
    public function redirect($url)
    {
        throw new Redirected($url);
    }
}

final class TikiLib
{
    public static $libs = [];

    public static function lib($name)
    {
        if (! isset(self::$libs[$name])) {
            self::$libs[$name] = $name === 'user' ? new FakeUserLib() : new FakeAccessLib();
        }
        return self::$libs[$name];
    }
}

final class TikiDb
{
    public static function get()
    {
        return new self();
    }
}

function users(): FakeUserLib
{
    return TikiLib::lib('user');
}

function temp_user(string $prefix, int $tokenId): string
{
    return $prefix . sprintf('%06d', $tokenId * 531441 % 1000000);
}

test('build() with TikiDb: the INI DSN', function () {
    sql(base_dsn(), file_get_contents(repo() . '/tests/data/trunk.sql') . file_get_contents(repo() . '/tests/data/fixture.sql'));
    $lib = AuthTokens::build(['auth_token_access_maxtimeout' => 60, 'auth_token_access_maxhits' => 2]);
    $token = $lib->createToken('/b.php', [], ['G'], ['hits' => 5]);
    $row = sql(base_dsn(), "SELECT hits, timeout FROM tiki_auth_tokens WHERE token = '$token'")[0];
    assert($row === ['hits' => '2', 'timeout' => '60']);
});

test('purged temporary users are removed through TikiLib', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['maxHits' => 5, 'purgeInterval' => 0]);
    $token = $lib->createToken('/p.php', [], ['G'], ['createUser' => 'y', 'userPrefix' => 'tmp', 'hits' => 1]);
    sql($dsn, 'UPDATE tiki_auth_tokens SET hits = 0 WHERE tokenId = 4');
    users()->calls = [];
    assert($lib->getGroups('e2990f7983b7b6c46b3987536aa38d32', 'tiki-index.php', []) === ['Admins', 'Registered']);
    assert(users()->calls === [['remove_temporary_user', temp_user('tmp', 4)]]);
    assert($lib->purgedUsers === [temp_user('tmp', 4)]);
    assert($lib->getToken($token) === null);
});

test('deleteToken, revokeAllTokens and rotateSigningSecret(true) remove temporary users', function () {
    $dsn = fresh_db('tiki24');
    $lib = new AuthTokens($dsn, ['purgeInterval' => 3600]);
    $lib->createToken('/d.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'a']);
    $lib->createToken('/d.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'b']);
    $lib->createToken('/d.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'c']);
    users()->calls = [];
    $lib->deleteToken(4);
    assert(users()->calls === [['remove_temporary_user', temp_user('a', 4)]]);
    users()->calls = [];
    $lib->revokeAllTokens();
    $removed = array_column(users()->calls, 1);
    sort($removed);
    assert($removed === [temp_user('b', 5), temp_user('c', 6)]);
    $lib->createToken('/d.php', [], ['G'], ['createUser' => true, 'userPrefix' => 'd']);
    users()->calls = [];
    $lib->rotateSigningSecret(true);
    assert(users()->calls === [['remove_temporary_user', temp_user('d', 7)]]);
});

test('a createUser token logs its temporary user in and redirects without the token', function () {
    $dsn = fresh_db('trunk');
    $lib = new AuthTokens($dsn, ['maxHits' => 5, 'purgeInterval' => 3600]);
    $token = $lib->createToken('/tiki/tiki-index.php', ['page' => 'Home Page'], ['Registered'], [
        'createUser' => 'y', 'userPrefix' => 'guest', 'email' => 'v@x.y', 'hits' => 2,
    ]);
    $name = temp_user('guest', 4);
    foreach ([true, false] as $first) {
        users()->calls = [];
        try {
            $lib->getGroups($token, '/tiki/tiki-index.php', ['page' => 'Home Page']);
            assert(false, 'expected the redirect');
        } catch (Redirected $r) {
            assert($r->getMessage() === 'tiki-index.php?page=Home+Page', $r->getMessage());
        }
        $expected = [['user_exists', $name]];
        if ($first) {
            $expected[] = ['add_user', $name, 'v@x.y', ['Registered']];
        }
        $expected[] = ['autologin_user', $name];
        assert(users()->calls === $expected, var_export(users()->calls, true));
    }
    users()->calls = [];
    assert($lib->getGroups($token, '/tiki/tiki-index.php', ['page' => 'Home Page']) === null, 'two hits used');
    assert(users()->calls === []);
});

test('TikiDb as $db without the INI DSN: the site db/local.php', function () {
    $ext = getenv('TIKI_TOKENS_EXT');
    assert(is_string($ext) && is_file($ext), 'TIKI_TOKENS_EXT names the extension');
    $dsn = fresh_db('trunk');
    $u = parse_url($dsn);
    $site = sys_get_temp_dir() . '/tiki-site-' . getmypid();
    @mkdir("$site/db", 0700, true);
    file_put_contents("$site/db/local.php", '<?php' . "\n"
        . '$db_tiki = "mysqli";' . "\n"
        . '$host_tiki = ' . var_export($u['host'] . (isset($u['port']) ? ':' . $u['port'] : ''), true) . ";\n"
        . '$user_tiki = ' . var_export(rawurldecode($u['user']), true) . ";\n"
        . '$pass_tiki = ' . var_export(isset($u['pass']) ? rawurldecode($u['pass']) : '', true) . ";\n"
        . '$dbs_tiki = ' . var_export(dsn_db($dsn), true) . ";\n");
    $child = "<?php\n"
        . "define('TIKI_PATH', " . var_export($site, true) . ");\n"
        . 'final class TikiDb { public static function get() { return new self(); } }' . "\n"
        . 'require ' . var_export(dirname(__DIR__) . '/AuthTokens.php', true) . ";\n"
        . '$lib = AuthTokens::build(["auth_token_access_maxhits" => 3]);' . "\n"
        . '$t = $lib->createToken("/l.php", [], ["G"], ["hits" => 2]);' . "\n"
        . 'echo json_encode([ini_get("tiki_tokens.dsn"), $lib->getGroups($t, "/l.php", []), count($lib->getTokens())]);' . "\n";
    file_put_contents("$site/child.php", $child);
    $out = shell_exec(escapeshellarg(PHP_BINARY) . ' -n -d ' . escapeshellarg("extension=$ext") . ' ' . escapeshellarg("$site/child.php") . ' 2>&1');
    array_map('unlink', ["$site/db/local.php", "$site/child.php"]);
    @rmdir("$site/db");
    @rmdir($site);
    assert(json_decode((string) $out, true) === ['', ['G'], 2], (string) $out);
    $rows = sql($dsn, 'SELECT hits FROM tiki_auth_tokens WHERE tokenId = 4');
    assert($rows === [['hits' => '1']], 'the child used this database (and purged fixture rows 1 and 2)');
});

done();
