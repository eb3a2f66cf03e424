<?php
// What Tiki's lib/setup/perms.php does with a TOKEN, as a stand-alone front for the end-to-end
// tests and the demo: take TOKEN from the request, remove it from $_GET/$_POST/$_REQUEST, ask
// AuthTokens::getGroups($token, $_SERVER['PHP_SELF'], $_GET), and on denial show Tiki's one
// message. The denial reason goes to the server log (and, for tests, to a response header).
//
// Configuration: the INI setting tiki_tokens.dsn (php -d tiki_tokens.dsn=...), or the
// environment variable TIKI_TOKENS_DSN.
require_once __DIR__ . '/../AuthTokens.php';

function token_gate(): void
{
    if (! isset($_REQUEST['TOKEN']) && ! isset($_GET['TOKEN'])) {
        header('X-Token-Result: none');
        echo "no token: anonymous view of {$_SERVER['PHP_SELF']}\n";
        return;
    }
    $token = $_GET['TOKEN'] ?? $_REQUEST['TOKEN'];
    unset($_GET['TOKEN'], $_POST['TOKEN'], $_REQUEST['TOKEN']);

    $dsn = getenv('TIKI_TOKENS_DSN') ?: null;
    $tokenlib = new AuthTokens($dsn, [
        'maxTimeout' => 604800,
        'maxHits' => 100,
        'purgeInterval' => (int) (getenv('TIKI_TOKENS_PURGE_INTERVAL') ?: 60),
    ]);
    $groups = $tokenlib->getGroups($token, $_SERVER['PHP_SELF'], $_GET);
    if ($groups === null) {
        $reason = $tokenlib->lastDenial ?? 'unknown';
        error_log("tiki-tokens: denied {$_SERVER['PHP_SELF']} ($reason)");
        header('X-Token-Result: denied ' . $reason);
        http_response_code(403);
        echo "Your access to this page has expired\n";
        exit;
    }
    header('X-Token-Result: granted');
    echo 'granted: ' . json_encode($groups) . " on {$_SERVER['PHP_SELF']}\n";
}

token_gate();
