<?php
// Tiki 24's token lookup and creation, re-written in plain PHP over PDO from /work/shared/SPEC.md
// and the benchmark brief: the baseline every Tiki 24 site runs today. It is a model of the cost,
// not of Tiki's object layer: the same statements in the same order on one reused connection,
// with PDO's default emulated prepares (as Tiki's TikiDb_Pdo uses it), `feature_sefurl` off, and
// without Tiki's user library (the temporary users of purged rows are fetched, as Tiki does,
// but not removed: that would only add cost to Tiki's side).

declare(strict_types=1);

final class Tiki24Tokens
{
    /** Tiki 24's expiry condition: time-expired, or used up (hits = 0). Not sargable: a scan. */
    private const EXPIRED = '(timeout != -1 AND UNIX_TIMESTAMP(creation) + timeout < UNIX_TIMESTAMP()) OR `hits` = 0';

    /** Tiki 24's token value, recomputed in SQL. */
    private const SCHEME = 'MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`))';

    /** Rows purged by the last getGroups() (for the benchmark's report of the backlog). */
    public int $lastPurged = 0;

    public function __construct(
        private PDO $db,
        private int $maxTimeout = 604800,
        private int $maxHits = 10,
    ) {
    }

    /** The groups of a valid token for exactly this entry and these params, else null. */
    public function getGroups(string $token, string $entry, array $parameters): ?array
    {
        // Before every lookup: the temporary users of expired rows (Tiki removes them through its
        // user library), then the rows themselves; both bounded by LIMIT 2000, both a table scan.
        $expired = $this->db->query(
            'SELECT tokenId, userPrefix FROM tiki_auth_tokens WHERE ' . self::EXPIRED . ' LIMIT 2000'
        )->fetchAll();
        foreach ($expired as $row) {
            // Tiki: $userlib->remove_temporary_user($row['userPrefix'] . $row['tokenId']);
        }
        $this->lastPurged = $this->db->exec('DELETE FROM tiki_auth_tokens WHERE ' . self::EXPIRED . ' LIMIT 2000');

        $st = $this->db->prepare(
            'SELECT tokenId, entry, parameters, `groups`, email, createUser, userPrefix FROM tiki_auth_tokens'
            . ' WHERE token = ? AND token = ' . self::SCHEME
        );
        $st->execute([$token]);
        $data = $st->fetch();
        $st->closeCursor();
        if (! $data) {
            return null;
        }
        if ($data['entry'] != $entry) {
            return null;
        }
        $registered = (array) json_decode((string) $data['parameters'], true);
        if (! self::allPresent($registered, $parameters) || ! self::allPresent($parameters, $registered)) {
            return null;
        }

        $up = $this->db->prepare('UPDATE tiki_auth_tokens SET `hits` = `hits` - 1 WHERE tokenId = ? AND hits != -1');
        $up->execute([$data['tokenId']]);

        return (array) json_decode((string) $data['groups'], true);
    }

    /** Tiki's one-sided params check with PHP's loose `!=` (called both ways). */
    private static function allPresent(array $a, array $b): bool
    {
        foreach ($a as $key => $value) {
            if (! isset($b[$key]) || $value != $b[$key]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Tiki 24's creation: INSERT, the new row's id by MAX(tokenId) (racy), the token computed by
     * an UPDATE in SQL, and the token read back.
     */
    public function createToken(string $entry, array $parameters, array $groups, array $arguments = []): string
    {
        $timeout = ! empty($arguments['timeout']) ? min($this->maxTimeout, (int) $arguments['timeout']) : $this->maxTimeout;
        $hits = ! empty($arguments['hits']) ? (int) $arguments['hits'] : $this->maxHits;
        $ins = $this->db->prepare(
            'INSERT INTO tiki_auth_tokens (timeout, maxhits, hits, entry, parameters, `groups`, email, createUser, userPrefix)'
            . ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
        );
        $ins->execute([
            $timeout, $hits, $hits, $entry, json_encode($parameters), json_encode($groups),
            $arguments['email'] ?? '', ! empty($arguments['createUser']) ? 'y' : 'n', $arguments['userPrefix'] ?? '',
        ]);
        $max = $this->db->query('SELECT MAX(tokenId) FROM tiki_auth_tokens')->fetchColumn();
        $this->db->prepare('UPDATE tiki_auth_tokens SET token = ' . self::SCHEME . ' WHERE tokenId = ?')->execute([$max]);
        $get = $this->db->prepare('SELECT token FROM tiki_auth_tokens WHERE tokenId = ?');
        $get->execute([$max]);
        return (string) $get->fetchColumn();
    }
}
