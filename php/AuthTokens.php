<?php
/**
 * Drop-in replacement for Tiki's AuthTokens class (lib/auth/tokens.php), backed by the
 * tiki_tokens PHP extension (TikiTokens\Store). Same class name, method names, arguments and
 * return values as Tiki's; the work (canonical URL, token check, hit counting, purge) happens in
 * the extension, on Tiki's own table tiki_auth_tokens.
 *
 * Install in a Tiki site: load the extension (extension=tiki_tokens.so, tiki_tokens.dsn in
 * php.ini or php_admin_value[tiki_tokens.dsn] in the FPM pool), keep a copy of Tiki's
 * lib/auth/tokens.php, and put this file in its place. To undo, put Tiki's file back.
 *
 * Where the database is: the first argument of the constructor.
 *  - a DSN string ("mysql://user:pass@host:port/db"): used as is;
 *  - null: the INI entry tiki_tokens.dsn;
 *  - a Tiki database object (what AuthTokens::build() passes, TikiDb::get()): the INI entry
 *    tiki_tokens.dsn when it is set, else a DSN built from the site's db/local.php
 *    ($host_tiki, $user_tiki, $pass_tiki, $dbs_tiki, optional $socket_tiki), found at
 *    TIKI_PATH/db/local.php, then ./db/local.php (Tiki runs from its root), then
 *    __DIR__/../../db/local.php (this file installed as lib/auth/tokens.php); with multi-tiki,
 *    db/$tikidomain/local.php first.
 */
class AuthTokens
{
    /** Tiki's class default for the cap on a token's timeout, in seconds. */
    public const DEFAULT_MAX_TIMEOUT = 3600;
    /** Tiki's class default for the cap on a token's hits. */
    public const DEFAULT_MAX_HITS = 1;
    /** Keys of editToken()'s $changes that lie inside a token's value (they re-issue it). */
    private const REISSUE_KEYS = ['timeout', 'groups', 'entry', 'params', 'url'];

    /** @var bool True after getGroups() granted access (Tiki's public flag). */
    public $ok = false;
    /** @var string|null Reason of the last denial of getGroups(), for logs (never shown to visitors). */
    public $lastDenial = null;
    /** @var string|null Detail of the last denial, for logs. */
    public $lastDenialDetail = null;
    /** @var string[] Temporary users of the rows the last purge, deletion or revocation removed. */
    public $purgedUsers = [];

    /** @var \TikiTokens\Store */
    private $store;
    /** @var int Seconds between purges in this process; 0 = before every lookup (Tiki's behaviour). */
    private $purgeInterval;
    /** @var \DateTime|null Accepted for compatibility; expiry uses the database clock. */
    private $dt;

    /**
     * The instance Tiki uses: caps from the preferences.
     *
     * @param array $prefs Tiki's preferences (auth_token_access_maxtimeout, auth_token_access_maxhits)
     * @return AuthTokens
     */
    public static function build($prefs)
    {
        if (! is_array($prefs) && ! $prefs instanceof \ArrayAccess) {
            // Tiki's class fails with the engine's Error here; a TypeError says why.
            throw new \TypeError('AuthTokens::build(): $prefs must be an array, ' . get_debug_type($prefs) . ' given');
        }
        $options = [];
        if (isset($prefs['auth_token_access_maxtimeout'])) {
            $options['maxTimeout'] = $prefs['auth_token_access_maxtimeout'];
        }
        if (isset($prefs['auth_token_access_maxhits'])) {
            $options['maxHits'] = $prefs['auth_token_access_maxhits'];
        }
        if (isset($prefs['auth_token_secret']) && is_string($prefs['auth_token_secret']) && $prefs['auth_token_secret'] !== '') {
            $options['preferenceSecret'] = $prefs['auth_token_secret'];
        }
        $db = class_exists('TikiDb', false) ? TikiDb::get() : null;
        return new AuthTokens($db, $options);
    }

    /**
     * @param mixed $db A DSN string, null (INI tiki_tokens.dsn) or a Tiki database object (see above)
     * @param array $options maxTimeout, maxHits (default 3600 and 1, as Tiki's class), secret
     *                       (a configured signing secret), preferenceSecret (the value of Tiki's
     *                       auth_token_secret preference; default inside Tiki: global $prefs),
     *                       purgeInterval (seconds; default: INI tiki_tokens.purge_interval),
     *                       connectTimeout, ioTimeout (seconds; default: the INI values; ioTimeout
     *                       is also the time budget of one getGroups(), purge included),
     *                       tikiRoot (the site root SEF URLs are resolved against; default: Tiki's
     *                       global $tikiroot, else INI tiki_tokens.tiki_root), pathForm ('raw' or
     *                       'decoded': how the web server hands Tiki's route.php the path)
     *
     * Where the secret comes from, first that applies: the secret option; the preferenceSecret
     * option; inside Tiki, $GLOBALS['prefs']['auth_token_secret'] (Tiki's cached preferences,
     * which Tiki refreshes when the preference changes: no lookup reads the table for it);
     * else the table tiki_preferences, read in the lookup's own SELECT.
     * @param \DateTime|null $dt Accepted for compatibility with Tiki's tests; unused
     *
     * $db and $options are #[\SensitiveParameter]: a DSN holds the database password and
     * $options the signing secret, and PHP puts a frame's arguments into exception traces.
     */
    public function __construct(#[\SensitiveParameter] $db = null, #[\SensitiveParameter] array $options = [], $dt = null)
    {
        $this->dt = $dt;
        $storeOptions = [
            'maxTimeout' => isset($options['maxTimeout']) ? (int) $options['maxTimeout'] : self::DEFAULT_MAX_TIMEOUT,
            'maxHits' => isset($options['maxHits']) ? (int) $options['maxHits'] : self::DEFAULT_MAX_HITS,
        ];
        foreach (['connectTimeout', 'ioTimeout', 'pathForm'] as $name) {
            if (isset($options[$name])) {
                $storeOptions[$name] = $options[$name];
            }
        }
        // The site root SEF URLs are resolved against: the option, else Tiki's global $tikiroot
        // (set by Tiki's setup for every request), else the INI tiki_tokens.tiki_root.
        $root = $options['tikiRoot'] ?? ($GLOBALS['tikiroot'] ?? null);
        if (is_string($root) && $root !== '') {
            $storeOptions['tikiRoot'] = $root;
        }
        if (isset($options['secret']) && (string) $options['secret'] !== '') {
            $storeOptions['secret'] = (string) $options['secret'];
        } elseif (($preference = self::preferenceSecret($options)) !== null) {
            $storeOptions['preferenceSecret'] = $preference;
        }
        $this->purgeInterval = isset($options['purgeInterval'])
            ? max(0, (int) $options['purgeInterval'])
            : max(0, (int) ini_get('tiki_tokens.purge_interval'));
        $this->store = new \TikiTokens\Store(self::dsnFor($db), $storeOptions);
    }

    /** The secret Tiki's preferences hold, from the options or Tiki's global $prefs. */
    private static function preferenceSecret(array $options)
    {
        $value = $options['preferenceSecret'] ?? ($GLOBALS['prefs']['auth_token_secret'] ?? null);
        return is_string($value) && $value !== '' ? $value : null;
    }

    /** The native store behind this object (for tools: migrate(), schemeInfo(), …). */
    public function getStore(): \TikiTokens\Store
    {
        return $this->store;
    }

    /**
     * The row of a token (Tiki's column names as keys), if the token verifies.
     *
     * @param mixed $token
     * @return array|null
     */
    public function getToken($token)
    {
        if (! is_string($token)) {
            return null;
        }
        return $this->store->get($token);
    }

    /**
     * The row of a token only while it can still be used (not expired, hits left), judged in
     * SQL with the database clock, as Tiki trunk does.
     *
     * @param mixed $token
     * @return array|null
     */
    public function getActiveToken($token)
    {
        if (! is_string($token)) {
            return null;
        }
        return $this->store->getActive($token);
    }

    /**
     * Every token row, oldest first.
     *
     * @return array[]
     */
    public function getTokens()
    {
        return $this->store->list();
    }

    /**
     * Tiki's check: the groups a token grants for this request, or null.
     *
     * The whole request is bound, not only ($entry, $parameters): its method (GET and HEAD;
     * POST only for a token created with allowPost, or for tiki-upload_file.php), its cookies
     * (none that reaches $_REQUEST may bear a bound parameter's name or TOKEN), no query
     * variable dropped by max_input_vars, and the token taken from the query string. Each
     * denial's reason is in $lastDenial. On the command line there is no request to bind.
     *
     * @param mixed $token The TOKEN request parameter
     * @param string $entry $_SERVER['PHP_SELF']
     * @param array $parameters $_GET (TOKEN is ignored), with a POSTed galleryId for uploads
     * @return array|null
     */
    public function getGroups($token, $entry, $parameters)
    {
        $this->ok = false;
        $this->lastDenial = null;
        $this->lastDenialDetail = null;
        if (! is_string($entry) || ! is_array($parameters)) {
            return $this->deny('malformed', 'entry must be a string and parameters an array');
        }
        // Tiki purges before each lookup; so do we, when due, inside the same call: purge and
        // lookup answer within one time budget (the I/O timeout), and a token that cannot be one
        // (not 32 or 64 hex characters) reaches the database not even for a purge. The whole
        // request is bound, not only ($entry, $parameters): see lookupRequest().
        $result = $this->store->lookupRequest($token, $entry, $parameters, ['purgeInterval' => $this->purgeInterval]);
        if ($result->purgedUsers) {
            $this->removeTemporaryUsers($result->purgedUsers);
        }
        if ($result instanceof \TikiTokens\Denial) {
            return $this->deny($result->reason, $result->detail);
        }
        if (! $result instanceof \TikiTokens\Grant) {
            return $this->deny('internal_error', 'lookup returned no result');
        }
        $groups = $result->groups;
        if (! $groups) {
            return $this->deny('no_groups', 'the token grants no groups');
        }
        if ($result->createUser && class_exists('TikiLib', false)) {
            $this->loginTemporaryUser($result, $entry, $parameters);
        }
        $this->ok = true;
        return $groups;
    }

    /**
     * Creates a token and returns its value.
     *
     * Called by Tiki's own "Admin Tokens" form (see adminFormUrl()), the token is minted from
     * the Full URL the admin typed, exactly as includeToken() mints it, and the form's
     * $parameters (which the form broke: undecoded values, one key "listfields[]") are ignored.
     *
     * @param string $entry The script path the token is bound to
     * @param array $parameters The query parameters it is bound to
     * @param array $groups The groups it grants
     * @param array $arguments timeout, hits (0/absent = the cap), email, createUser, userPrefix, user,
     *                         allowPost (the token serves POST too: a stronger grant, the POST
     *                         body is not bound; needs Tiki trunk's table, except for
     *                         tiki-upload_file.php)
     * @param array $data Extra data (Tiki trunk's data column)
     * @return string
     */
    public function createToken($entry, array $parameters, array $groups, array $arguments = [], array $data = [])
    {
        $options = self::createOptions(
            $arguments['timeout'] ?? 0,
            $arguments['hits'] ?? 0,
            $arguments['email'] ?? '',
            $arguments['createUser'] ?? false,
            $arguments['userPrefix'] ?? '',
            $data,
            $arguments['allowPost'] ?? false
        );
        if (isset($arguments['user'])) {
            $options['user'] = (string) $arguments['user'];
        }
        $typed = self::adminFormUrl($entry);
        if ($typed !== null) {
            parse_str((string) parse_url($this->store->includeToken($typed, $groups, $options), PHP_URL_QUERY), $query);
            $token = $query['TOKEN'] ?? null;
            if (! is_string($token)) {
                throw new \RuntimeException('AuthTokens: includeToken() returned a URL without TOKEN');
            }
            return $token;
        }
        $created = $this->store->create((string) $entry, $parameters, $groups, $options);
        return $created['token'];
    }

    /**
     * Edits a token (beyond Tiki's API). Changes outside the token's value are made in place
     * and keep its link: hits (set; -1 = unlimited, 0 = used up), addHits (added atomically;
     * unlimited stays unlimited, a used-up token is revived), maxHits, email, createUser,
     * userPrefix, data. A change of timeout, groups, entry, params or url re-issues it: a new
     * token and link with every change, the rest carried over (hits left, maxhits, email,
     * temporary-user settings, data, the moment it expires), and the old token deleted, so its
     * link stops working ('reissued' => true, 'revokedTokenId' => the old id).
     *
     * @param int $tokenId
     * @param array $changes See above (unknown keys throw TikiTokens\InvalidInputException)
     * @return array|null ['tokenId' => int, 'token' => string, 'url' => string (path-only link),
     *                    'reissued' => bool, 'revokedTokenId' => ?int]; null when no token has this id
     */
    public function editToken($tokenId, array $changes)
    {
        if (isset($changes['createUser']) && ! is_bool($changes['createUser'])) {
            $changes['createUser'] = ! empty($changes['createUser']) && $changes['createUser'] !== 'n';
        }
        if (array_intersect(array_keys($changes), self::REISSUE_KEYS)) {
            $new = $this->store->reissue((int) $tokenId, $changes);
            if ($new === null) {
                return null;
            }
            $this->removeTemporaryUsers($new['revokedTempUser'] === null ? [] : [$new['revokedTempUser']]);
            return [
                'tokenId' => $new['tokenId'],
                'token' => $new['token'],
                'url' => $new['url'],
                'reissued' => true,
                'revokedTokenId' => $new['revokedTokenId'],
            ];
        }
        $row = $this->store->edit((int) $tokenId, $changes);
        if ($row === null) {
            return null;
        }
        return [
            'tokenId' => $row['tokenId'],
            'token' => $row['token'],
            'url' => $row['url'],
            'reissued' => false,
            'revokedTokenId' => null,
        ];
    }

    /**
     * Includes a new token into a URL: the token is bound to the URL's path and query, and the
     * URL comes back with &TOKEN=… added (before any #fragment).
     *
     * @param string $url
     * @param array $groups
     * @param string $email
     * @param int $timeout Seconds (0 = the cap)
     * @param int $hits (0 = the cap)
     * @param bool $createUser
     * @param string $userPrefix
     * @param array $data
     * @param bool $allowPost The token serves POST too (see createToken)
     * @return string
     */
    public function includeToken($url, array $groups = [], $email = '', $timeout = 0, $hits = 0, $createUser = false, $userPrefix = 'guest', $data = [], $allowPost = false)
    {
        $options = self::createOptions($timeout, $hits, $email, $createUser, $userPrefix, (array) $data, $allowPost);
        return $this->store->includeToken((string) $url, $groups, $options);
    }

    /**
     * The row of the token a URL carries (getToken() of its TOKEN parameter, read as PHP's
     * parse_str reads the query, as Tiki trunk does), or null.
     *
     * @param string $url
     * @return array|null
     */
    public function getTokenFromUrl($url)
    {
        $query = parse_url((string) $url, PHP_URL_QUERY);
        if (! is_string($query)) {
            return null;
        }
        parse_str($query, $params);
        return isset($params['TOKEN']) && is_string($params['TOKEN']) ? $this->getToken($params['TOKEN']) : null;
    }

    /**
     * Deletes a token (and its temporary user).
     *
     * @param int $tokenId
     */
    public function deleteToken($tokenId)
    {
        $user = $this->store->delete((int) $tokenId);
        $this->removeTemporaryUsers($user === null ? [] : [$user]);
    }

    /**
     * Deletes expired and used-up tokens now (and their temporary users), at most $limit of
     * them (-1: all, as Tiki trunk). Their temporary users are in $purgedUsers afterwards.
     *
     * @param int $limit
     * @return bool True (Tiki trunk returns the database's truthy result)
     */
    public function deleteExpired($limit = -1)
    {
        $limit = (int) $limit;
        $this->removeTemporaryUsers($this->store->purge($limit < 0 ? 4294967295 : $limit));
        return true;
    }

    /**
     * Replaces the signing secret (Tiki trunk's contract): tokens signed with the old one stop
     * working, and by default every token is revoked too — legacy MD5 tokens are unkeyed, so a
     * rotation without revocation leaves them usable (run after cloning a database). Inside
     * Tiki the new secret goes through Tiki's own preference setter, so Tiki's preference cache
     * learns it; outside, the extension writes tiki_preferences.
     *
     * @param bool $revokeExistingTokens
     * @return int The number of revoked tokens (0 when not revoking)
     */
    public function rotateSigningSecret($revokeExistingTokens = true)
    {
        $tikilib = class_exists('TikiLib', false) ? TikiLib::lib('tiki') : null;
        if ($tikilib !== null && method_exists($tikilib, 'set_preference')) {
            $secret = bin2hex(random_bytes(32));
            $tikilib->set_preference('auth_token_secret', $secret);
            $this->store = $this->store->withPreferenceSecret($secret);
        } else {
            $this->store->rotateSecret(false);
        }
        return $revokeExistingTokens ? $this->revokeAllTokens() : 0;
    }

    /**
     * Deletes every token (and their temporary users).
     *
     * @return int The number of revoked tokens
     */
    public function revokeAllTokens()
    {
        $revoked = $this->store->revokeAll();
        $this->removeTemporaryUsers($revoked['tempUsers']);
        return $revoked['revoked'];
    }

    /**
     * The Full URL typed into Tiki's "Admin Tokens" form, when this createToken() call comes
     * from that form; else null.
     *
     * Tiki's form (tiki-admin_tokens.php, action "add") reads the URL with
     * filter_input(INPUT_POST, 'entry', FILTER_SANITIZE_STRING) on Tiki 24 (quotes become
     * &#34;, which parse_url then takes for a fragment) or FILTER_SANITIZE_URL on trunk (spaces
     * and non-ASCII dropped), passes parse_url(…, PHP_URL_PATH) as $entry, and splits the query
     * itself (Tiki 24: on "&" and "=" without decoding). The URL as typed is still in
     * $_POST['entry']. Recognised: the running script is tiki-admin_tokens.php
     * ($_SERVER['SCRIPT_NAME'] or PHP_SELF), $_POST['entry'] is a string, and $entry is
     * exactly the path the form computes from it with either filter. Nothing else is.
     */
    private static function adminFormUrl($entry)
    {
        if (! is_string($entry) || ! isset($_POST['entry']) || ! is_string($_POST['entry'])) {
            return null;
        }
        $scripts = [$_SERVER['SCRIPT_NAME'] ?? null, $_SERVER['PHP_SELF'] ?? null];
        $fromForm = false;
        foreach ($scripts as $script) {
            $fromForm = $fromForm || (is_string($script) && basename($script) === 'tiki-admin_tokens.php');
        }
        if (! $fromForm) {
            return null;
        }
        $typed = $_POST['entry'];
        // FILTER_SANITIZE_STRING is deprecated since PHP 8.1 (Tiki 24 still uses it) and may
        // go: looked up by name, without the deprecation notice.
        $filters = [FILTER_SANITIZE_URL];
        if (defined('FILTER_SANITIZE_STRING')) {
            $filters[] = @constant('FILTER_SANITIZE_STRING');
        }
        foreach ($filters as $filter) {
            $filtered = @filter_var($typed, $filter);
            if (is_string($filtered) && parse_url($filtered, PHP_URL_PATH) === $entry) {
                return $typed;
            }
        }
        return null;
    }

    private function deny($reason, $detail)
    {
        $this->lastDenial = $reason;
        $this->lastDenialDetail = $detail;
        return null;
    }

    private function removeTemporaryUsers(array $users)
    {
        $this->purgedUsers = $users;
        if ($users && class_exists('TikiLib', false)) {
            $userlib = TikiLib::lib('user');
            foreach ($users as $name) {
                $userlib->remove_temporary_user($name);
            }
        }
    }

    /** Tiki's autologin of a temporary user, then its redirect to the URL without the token. */
    private function loginTemporaryUser(\TikiTokens\Grant $grant, $entry, array $parameters)
    {
        $userlib = TikiLib::lib('user');
        $tempuser = $grant->tempUser;
        if (! $userlib->user_exists($tempuser)) {
            $randompass = $userlib->genPass();
            $userlib->add_user($tempuser, $randompass, $grant->email, '', false, null, null, null, $grant->groups);
        }
        $userlib->autologin_user($tempuser);
        unset($parameters['TOKEN']);
        $url = basename($entry);
        if ($parameters) {
            $url .= '?' . http_build_query($parameters, '', '&');
        }
        if (stream_resolve_include_path('tiki-sefurl.php') !== false) {
            include_once 'tiki-sefurl.php';
        }
        if (function_exists('filter_out_sefurl')) {
            $url = filter_out_sefurl($url);
        }
        TikiLib::lib('access')->redirect($url);
        die;
    }

    /** Tiki's rules for the creation arguments, as native options. */
    private static function createOptions($timeout, $hits, $email, $createUser, $userPrefix, array $data, $allowPost)
    {
        $options = [
            'email' => (string) $email,
            'createUser' => ! empty($createUser) && $createUser !== 'n',
            'userPrefix' => (string) $userPrefix,
            'allowPost' => $allowPost === true,
        ];
        if (! empty($timeout)) {
            $options['timeout'] = (int) $timeout;
        }
        if (! empty($hits)) {
            $options['hits'] = (int) $hits;
        }
        if ($data) {
            $options['data'] = $data;
        }
        return $options;
    }

    /** The DSN for the constructor's $db (see the file comment). */
    private static function dsnFor(#[\SensitiveParameter] $db)
    {
        if ($db === null) {
            return null;
        }
        if (is_string($db)) {
            return $db;
        }
        if ((string) ini_get('tiki_tokens.dsn') !== '') {
            return null;
        }
        return self::dsnFromLocalPhp();
    }

    /** A DSN from the Tiki site's db/local.php. */
    private static function dsnFromLocalPhp()
    {
        static $cache = null;
        if ($cache !== null) {
            return $cache;
        }
        $file = self::findLocalPhp();
        if ($file === null) {
            return ''; // TikiTokens\Store then throws its ConfigException ("no DSN: set tiki_tokens.dsn …")
        }
        $vars = (static function ($__file) {
            include $__file;
            return get_defined_vars();
        })($file);
        foreach (['host_tiki', 'user_tiki', 'dbs_tiki'] as $name) {
            if (! isset($vars[$name]) || ! is_string($vars[$name])) {
                throw new \RuntimeException("AuthTokens: \${$name} is missing from the site's db/local.php");
            }
        }
        // Tiki's PDO connector builds "mysql:host=$host_tiki;dbname=…", or "unix_socket=$socket_tiki;…"
        // when $socket_tiki is set, so a site may give PDO's own keys after a semicolon
        // ("db;port=3307", "localhost;unix_socket=/run/mysqld/mysqld.sock"), and $socket_tiki wins.
        $pdoKeys = explode(';', $vars['host_tiki']);
        $host = array_shift($pdoKeys);
        $port = '';
        $socket = '';
        if (preg_match('/^\[([^\]]*)\](?::(\d+))?$/D', $host, $m)) {
            // "[::1]" or "[::1]:3307"
            [$host, $port] = [$m[1], isset($m[2]) ? $m[2] : ''];
        } elseif (substr_count($host, ':') >= 2 && strpos($host, '/') === false) {
            // a bare IPv6 address ("::1", "fe80::1"): no port in it
        } elseif (preg_match('/^(.*):(\d+)$/', $host, $m)) {
            [$host, $port] = [$m[1], $m[2]];
        } elseif (preg_match('/^(.*):(\/.+)$/', $host, $m)) {
            [$host, $socket] = [$m[1], $m[2]];
        }
        foreach ($pdoKeys as $pair) {
            if (preg_match('/^port=(\d+)$/D', $pair, $m)) {
                $port = $m[1];
            } elseif (strncmp($pair, 'unix_socket=', 12) === 0 && strlen($pair) > 12) {
                $socket = substr($pair, 12);
            }
        }
        if (isset($vars['socket_tiki']) && is_string($vars['socket_tiki']) && $vars['socket_tiki'] !== '') {
            $socket = $vars['socket_tiki'];
        }
        if ($host === '') {
            $host = 'localhost';
        }
        $pass = isset($vars['pass_tiki']) ? (string) $vars['pass_tiki'] : '';
        $dsn = 'mysql://' . rawurlencode($vars['user_tiki'])
            . ($pass !== '' ? ':' . rawurlencode($pass) : '')
            . '@' . (strpos($host, ':') !== false ? "[$host]" : $host)
            . ($port !== '' ? ':' . $port : '')
            . '/' . rawurlencode($vars['dbs_tiki']);
        if ($socket !== '') {
            $dsn .= '?socket=' . rawurlencode($socket);
        }
        return $cache = $dsn;
    }

    private static function findLocalPhp()
    {
        $roots = [];
        if (defined('TIKI_PATH')) {
            $roots[] = constant('TIKI_PATH');
        }
        $cwd = getcwd();
        if ($cwd !== false) {
            $roots[] = $cwd;
        }
        $roots[] = dirname(__DIR__, 2);
        $domain = isset($GLOBALS['tikidomain']) && is_string($GLOBALS['tikidomain']) ? $GLOBALS['tikidomain'] : '';
        foreach ($roots as $root) {
            if ($domain !== '' && is_file("$root/db/$domain/local.php")) {
                return "$root/db/$domain/local.php";
            }
            if (is_file("$root/db/local.php")) {
                return "$root/db/local.php";
            }
        }
        return null;
    }
}
