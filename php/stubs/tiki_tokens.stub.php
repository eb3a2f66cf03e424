<?php
/**
 * IDE stubs for the tiki_tokens extension (never include them where the extension is loaded).
 *
 * Signatures are exactly what the extension declares (tests/php_api.rs checks them by
 * reflection); docblocks give the precise types where PHP's declared ones are wider.
 *
 * INI (not visible here): tiki_tokens.dsn, tiki_tokens.max_timeout (604800),
 * tiki_tokens.max_hits (10), tiki_tokens.purge_interval (60), tiki_tokens.connect_timeout (2),
 * tiki_tokens.io_timeout (5).
 */

namespace TikiTokens {

    /**
     * Base class of every exception the extension throws.
     * Thrown by the extension only: PHP code cannot construct it.
     */
    class Exception extends \Exception
    {
        /** @internal The extension's classes cannot be constructed from PHP. */
        public function __construct() {}
    }

    /** A bad DSN, INI value or option. */
    class ConfigException extends Exception
    {
        /** @internal */
        public function __construct() {}
    }

    /** The database could not be reached, or a statement failed. */
    class DatabaseException extends Exception
    {
        /** @internal */
        public function __construct() {}
    }

    /** The table is missing, lacks a column, or has an unexpected shape. */
    class SchemaException extends Exception
    {
        /** @internal */
        public function __construct() {}
    }

    /** An argument of the wrong type, or input that cannot be stored. */
    class InvalidInputException extends Exception
    {
        /** @internal */
        public function __construct() {}
    }

    /**
     * A granted lookup. Read-only.
     */
    final class Grant
    {
        /** @var int The row's tokenId. */
        public $tokenId;
        /** @var string[] The groups whose rights the visitor gets (may be empty). */
        public $groups;
        /** @var string Who the token was sent to. */
        public $email;
        /** @var bool Log the visitor in as a temporary user. */
        public $createUser;
        /** @var string Prefix of the temporary user name. */
        public $userPrefix;
        /** @var string|null The token's creator (Tiki trunk's user column). */
        public $user;
        /** @var string|null Extra data as stored JSON (Tiki trunk's data column). */
        public $data;
        /** @var string|null The temporary user name when createUser. */
        public $tempUser;
        /** @var int Hits left after this one (-1 = unlimited). */
        public $hitsLeft;
        /** @var string[] Temporary users of the rows the purge run before this lookup removed. */
        public $purgedUsers;

        /** @internal Made by Store::lookup() only. */
        public function __construct() {}
    }

    /**
     * A refused lookup. Read-only.
     */
    final class Denial
    {
        /**
         * @var string malformed, unknown, bad_signature, expired, exhausted, entry_mismatch,
         *             params_mismatch, lost_race, database_error, internal_error, and from
         *             lookupRequest() method_not_allowed, cookie_override, dropped_input,
         *             token_not_in_query (and no_groups, which only AuthTokens::getGroups
         *             reports): see reasons()
         */
        public $reason;
        /** @var string What exactly, for logs (never a secret). */
        public $detail;
        /** @var string What a visitor may be shown: "Your access to this page has expired". */
        public $message;
        /** @var string[] Temporary users of the rows the purge run before this lookup removed. */
        public $purgedUsers;

        /** @internal Made by Store::lookup() only. */
        public function __construct() {}

        /**
         * Every reason a denial can have, the one list (it includes no_groups, which
         * AuthTokens::getGroups reports for a token that grants no groups).
         *
         * @return string[]
         */
        public static function reasons(): array {}
    }

    /**
     * The tokens of one Tiki database (table tiki_auth_tokens). Objects with the same
     * configuration share one connection pool per PHP process.
     */
    class Store
    {
        /**
         * @param string|null $dsn "mysql://user:pass@host:port/db"; null: INI tiki_tokens.dsn
         * @param array{secret?: ?string, preferenceSecret?: ?string, maxTimeout?: int, maxHits?: int,
         *              connectTimeout?: int|float, ioTimeout?: int|float, forceLegacy?: bool} $options
         *        secret: a configured secret (rotation refused); preferenceSecret: the value of Tiki's
         *        auth_token_secret preference as the caller's preference cache holds it (no lookup
         *        reads the table for it; rotation writes the table); neither: read from
         *        tiki_preferences in the lookup's own SELECT. ioTimeout is also the time budget of one
         *        lookup (purge, SELECT and UPDATE together). causalReads: 'auto', 'on' or 'off'
         *        (wsrep_sync_wait = 1 on a Galera node). tikiRoot (default: INI
         *        tiki_tokens.tiki_root): the site root SEF URLs are resolved against when minting
         *        (/tiki/HomePage → /tiki/tiki-index.php, page=HomePage); pathForm: 'raw' or
         *        'decoded' (default: INI tiki_tokens.path_form).
         * @throws ConfigException|InvalidInputException
         */
        public function __construct(?string $dsn = null, array $options = []) {}

        /**
         * Token + entry ($_SERVER['PHP_SELF']) + params ($_GET) → Grant or Denial. Never throws on
         * any input. With purgeInterval (null: INI tiki_tokens.purge_interval), a purge runs first
         * when due; purge and lookup together answer within ioTimeout, and a lookup denied for
         * lack of time consumes no hit.
         *
         * @param mixed $token The TOKEN parameter (a non-string is a Denial "malformed")
         * @param array{purgeInterval?: ?int, purgeLimit?: int} $options
         * @return Grant|Denial
         */
        public function lookup(mixed $token, string $entry, array $params, array $options = []): mixed {}

        /**
         * lookup(), and the whole current request is bound too: its method (GET and HEAD; POST
         * only for a token minted with allowPost or bound to tiki-upload_file.php), no cookie
         * that reaches $_REQUEST with the name of a bound parameter or TOKEN, no query variable
         * dropped by max_input_vars, and the token taken from the query string (for an upload
         * POST also the POST body). Read from the SAPI and PHP's globals, not from what the
         * script changed; on the command line (no request) it is lookup(). Never throws.
         *
         * @param mixed $token The TOKEN request parameter as the script took it
         * @param array $params $_GET without TOKEN, or what the script checks instead (Tiki adds a
         *                      POSTed galleryId for uploads)
         * @param array{purgeInterval?: ?int, purgeLimit?: int} $options As for lookup()
         * @return Grant|Denial Reasons of its own: method_not_allowed, cookie_override,
         *                      dropped_input, token_not_in_query
         */
        public function lookupRequest(mixed $token, string $entry, array $params, array $options = []): mixed {}

        /**
         * Binds a new token to $entry and $params. Only what a request can carry back is accepted
         * in $params: strings, ints (matched by their decimal string) and non-empty arrays of
         * them; a float, bool, null, empty array, a TOKEN parameter or a name PHP would rewrite
         * (a space or dot before the first "[") is an InvalidInputException, never a token that
         * can never match.
         *
         * allowPost lets the token serve POST requests too (a stronger grant: the POST body is
         * not bound); it is kept as allowPost: true in the data column, so it needs Tiki trunk's
         * table (an InvalidInputException on Tiki 24's), except for tiki-upload_file.php, where
         * POST is allowed anyway.
         *
         * @param array{timeout?: ?int, hits?: ?int, email?: string, createUser?: bool,
         *              userPrefix?: string, user?: ?string, data?: ?array, allowPost?: bool} $options
         * @return array{tokenId: int, token: string, scheme: string}
         * @throws Exception
         */
        public function create(string $entry, array $params, array $groups, array $options = []): array {}

        /**
         * @param string[] $groups
         * @param array $options As for create()
         * @return string The URL with &TOKEN=… added
         * @throws Exception
         */
        public function includeToken(string $url, array $groups = [], array $options = []): string {}

        /**
         * @return array|null The row (Tiki's column names as keys) if the token verifies
         * @throws Exception
         */
        public function get(string $token): ?array {}

        /**
         * @return array|null The row if the token verifies and can still be used (within its
         *                    time and with hits left, by the database clock)
         * @throws Exception
         */
        public function getActive(string $token): ?array {}

        /**
         * @return array[] Every row, oldest first
         * @throws Exception
         */
        public function list(): array {}

        /**
         * @return string|null The temporary user to remove (createUser = 'y')
         * @throws Exception
         */
        public function delete(int $tokenId): ?string {}

        /**
         * Changes, in place, what lies outside the token's value; the token and its link stay.
         * "addHits" is one atomic UPDATE (unlimited stays unlimited, a used-up token is
         * revived); values are checked against the real columns, and nothing is written when
         * one is refused. Keys inside the value (timeout, groups, entry, params, url) are an
         * InvalidInputException: use reissue().
         *
         * @param array{hits?: int, addHits?: int, maxHits?: int, email?: string,
         *              createUser?: bool, userPrefix?: string, data?: ?array} $changes
         * @return array|null The row after the change (as get()) plus "url", the token's
         *                    path-only link; null when no token has this id
         * @throws Exception
         */
        public function edit(int $tokenId, array $changes): ?array {}

        /**
         * Re-issues a token: a new one with $changes (those of edit(), and timeout, groups,
         * entry and params, or url for both; given timeout and hits are capped as by
         * create()), everything else carried over (hits left, maxhits, email, temporary-user
         * settings, creator, data, the moment it expires), and the old one deleted in the same
         * call: its link stops working. Once this returned, the old token is never granted.
         *
         * @param array{hits?: int, addHits?: int, maxHits?: int, email?: string,
         *              createUser?: bool, userPrefix?: string, data?: ?array, timeout?: int,
         *              groups?: string[], entry?: string, params?: array, url?: string} $changes
         * @return array{tokenId: int, token: string, scheme: string, url: string,
         *               revokedTokenId: int, revokedTempUser: ?string, row: array}|null
         *         "url" is the new path-only link; null when no token has this id
         * @throws Exception
         */
        public function reissue(int $tokenId, array $changes): ?array {}

        /**
         * @return string[] Temporary users of the removed rows
         * @throws Exception
         */
        public function purge(int $limit = 1000): array {}

        /**
         * purge(), at most once per $interval seconds per process (null: INI
         * tiki_tokens.purge_interval; 0: always).
         *
         * @return string[]|null Null when no purge was due
         * @throws Exception
         */
        public function purgeIfDue(?int $interval = null, int $limit = 1000): ?array {}

        /**
         * @return array{revoked: int, tempUsers: string[]} Rows removed, and the temporary users
         *                                                  of the removed rows
         * @throws Exception
         */
        public function revokeAll(): array {}

        /**
         * @return array{revoked: int, tempUsers: string[]} As revokeAll() with $revoke; 0 and []
         *                                                  without
         * @throws Exception
         */
        public function rotateSecret(bool $revoke = false): array {}

        /**
         * The store of the same configuration with $secret as the value of Tiki's
         * auth_token_secret preference (after Tiki's own preference setter stored a new one); a
         * configured secret option still wins.
         *
         * @throws Exception
         */
        public function withPreferenceSecret(string $secret): Store {}

        /**
         * Applies Tiki's migration of the table (signed tokens), idempotently.
         *
         * @return array{altered: string[], secretCreated: bool}
         * @throws Exception
         */
        public function migrate(): array {}

        /**
         * What the table allows now (detected afresh), and the Galera node the server is (cluster:
         * null when it is none; replicated: false when the table's engine is not InnoDB, which
         * Galera does not replicate).
         *
         * @return array{minting: string, needsMigration: bool, tokenWidth: int, hasSecret: bool,
         *               cluster: ?array{node: string, clusterSize: ?int, state: string, synced: bool,
         *               engine: ?string, replicated: bool}}
         * @throws Exception
         */
        public function schemeInfo(): array {}

        /** @throws Exception */
        public function connectionState(): string {}
    }

    /**
     * The (entry, params) a token made for this URL is bound to.
     *
     * @return array{entry: string, params: array}
     * @throws Exception
     */
    function canonical_url(string $url): array {}

    /**
     * The array PHP builds in $_GET for this query string (TOKEN kept).
     *
     * @throws Exception
     */
    function parse_query(string $query): array {}
}
