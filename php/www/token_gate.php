<?php
// What Tiki's lib/setup/perms.php does with a TOKEN, as a stand-alone front for the end-to-end
// tests and the demo: take TOKEN from $_REQUEST (as Tiki does), remove it from $_GET, $_POST and
// $_REQUEST, ask AuthTokens::getGroups($token, $_SERVER['PHP_SELF'], $params) with $params =
// $_GET — for Tiki's upload script plus a POSTed galleryId, as perms.php does — and on denial
// show Tiki's one message.
//
// Why a request was denied goes to the server log (error_log) only, never to the client. A debug
// switch for tests and the demo also sends the outcome in the response header X-Token-Result
// ("granted", "denied <reason>", "none"): the environment variable TIKI_TOKENS_GATE_DEBUG=1 or
// php -d tiki_tokens_gate.debug=1. Never turn it on for a site.
//
// Configuration: the INI setting tiki_tokens.dsn (php -d tiki_tokens.dsn=...), or the
// environment variable TIKI_TOKENS_DSN.
require_once __DIR__ . '/../AuthTokens.php';

/** True when the outcome may be shown to the client (tests, demo). */
function token_gate_debug(): bool
{
    return getenv('TIKI_TOKENS_GATE_DEBUG') === '1' || get_cfg_var('tiki_tokens_gate.debug') === '1';
}

/** For logs: control bytes escaped, so a request cannot forge log lines. */
function token_gate_loggable($text): string
{
    return addcslashes((string) $text, "\0..\37\177");
}

/**
 * The params the token is checked against: $_GET, and for Tiki's upload script a galleryId that
 * came in the POST body (its upload form posts it, as a field or a list of equal fields) when
 * the query has none — what Tiki's perms.php does for its one POST use of tokens.
 */
function token_gate_params(): array
{
    $params = $_GET;
    if (basename($_SERVER['PHP_SELF']) !== 'tiki-upload_file.php') {
        return $params;
    }
    if (! empty($_POST['galleryId']) && empty($_GET['galleryId'])) {
        $ids = (array) $_POST['galleryId'];
        $first = reset($ids);
        $same = array_filter($ids, fn ($id) => $id === $first) === $ids;
        if ($same && is_string($first)) {
            $params['galleryId'] = $first;
        }
    }
    return $params;
}

function token_gate(): void
{
    $debug = token_gate_debug();
    if (basename($_SERVER['PHP_SELF']) === 'tiki-upload_file.php') {
        // Tiki's upload script takes its `upload` switch out before perms.php runs.
        unset($_GET['upload'], $_REQUEST['upload']);
    }
    if (! isset($_REQUEST['TOKEN'])) {
        if ($debug) {
            header('X-Token-Result: none');
        }
        echo "no token: anonymous view of {$_SERVER['PHP_SELF']}\n";
        return;
    }
    $token = $_REQUEST['TOKEN'];
    unset($_GET['TOKEN'], $_POST['TOKEN'], $_REQUEST['TOKEN']);

    $dsn = getenv('TIKI_TOKENS_DSN') ?: null;
    $tokenlib = new AuthTokens($dsn, [
        'maxTimeout' => 604800,
        'maxHits' => 100,
        'purgeInterval' => (int) (getenv('TIKI_TOKENS_PURGE_INTERVAL') ?: 60),
    ]);
    $groups = $tokenlib->getGroups($token, $_SERVER['PHP_SELF'], token_gate_params());
    if ($groups === null) {
        $reason = $tokenlib->lastDenial ?? 'unknown';
        error_log(sprintf(
            'tiki-tokens: denied %s %s (%s: %s)',
            token_gate_loggable($_SERVER['REQUEST_METHOD'] ?? ''),
            token_gate_loggable($_SERVER['PHP_SELF']),
            $reason,
            token_gate_loggable($tokenlib->lastDenialDetail)
        ));
        if ($debug) {
            header('X-Token-Result: denied ' . $reason);
        }
        http_response_code(403);
        echo "Your access to this page has expired\n";
        exit;
    }
    if ($debug) {
        header('X-Token-Result: granted');
    }
    echo 'granted: ' . json_encode($groups) . " on {$_SERVER['PHP_SELF']}\n";
}

token_gate();
