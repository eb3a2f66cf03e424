<?php
// What Tiki's "Admin Tokens" → "Add new token" form does (tiki-admin_tokens.php, action "add";
// SPEC section 9) with the Full URL before it calls createToken, for the HTTP tests of the
// drop-in (tests/http_admin_form.rs). POST field "variant" chooses the form:
//  - "tiki24" (default): Tiki 24.1. The URL through filter_input(…, FILTER_SANITIZE_STRING)
//    (tags stripped, quotes as &#34; / &#39;), the query split on "&" and "=" without decoding,
//    groups as a comma list with spaces removed.
//  - "trunk": Tiki trunk. The URL through FILTER_SANITIZE_URL (spaces and non-ASCII dropped),
//    the query through parse_str (decoded, arrays kept), groups as a POST array.
// Then AuthTokens::createToken($entry, $parameters, $groups, $arguments), as the form calls it.
// The answer is JSON: the token and what the form passed, or the error.
//
// Configuration as token_gate.php: INI tiki_tokens.dsn, or the environment TIKI_TOKENS_DSN.
require_once __DIR__ . '/../AuthTokens.php';

header('Content-Type: application/json');
$variant = $_POST['variant'] ?? 'tiki24';
$tokenlib = new AuthTokens(getenv('TIKI_TOKENS_DSN') ?: null, ['maxTimeout' => 604800, 'maxHits' => 100]);

$action = $_REQUEST['action'] ?? '';
if ($action !== 'add') {
    echo json_encode(['error' => 'nothing to do: POST action=add']), "\n";
    exit;
}

if ($variant === 'trunk') {
    $url = filter_input(INPUT_POST, 'entry', FILTER_SANITIZE_URL);
    $entry = parse_url($url, PHP_URL_PATH);
    $groups = $_POST['groups'];
    $parameters = [];
    $query = parse_url($url, PHP_URL_QUERY);
    if (! empty($query)) {
        parse_str($query, $parameters);
    }
} else {
    // Tiki 24 runs on PHP versions where FILTER_SANITIZE_STRING is deprecated (8.1+): its
    // notice is silenced here, the filtering is the same.
    $sanitizeString = @constant('FILTER_SANITIZE_STRING');
    $url = filter_input(INPUT_POST, 'entry', $sanitizeString);
    $entry = parse_url($url, PHP_URL_PATH);
    $groups = filter_input(INPUT_POST, 'groups', $sanitizeString);
    $groups = str_replace(' ', '', $groups);
    $groups = explode(',', $groups);
    $parameters = [];
    $query = parse_url($url, PHP_URL_QUERY);
    if (! empty($query)) {
        $query = explode('&', $query);
        foreach ($query as $element) {
            // A piece without "=" gives PHP's "Undefined array key 1" warning and a null value,
            // as in Tiki.
            list($key, $value) = explode('=', $element);
            $parameters[$key] = $value;
        }
    }
}

$arguments = [];
$arguments['timeout'] = filter_input(INPUT_POST, 'timeout', FILTER_SANITIZE_NUMBER_INT);
$arguments['hits'] = filter_input(INPUT_POST, 'maxhits', FILTER_SANITIZE_NUMBER_INT);

if (empty($entry) || empty($groups)) {
    echo json_encode(['error' => 'the form calls nothing without an entry and groups']), "\n";
    exit;
}
try {
    $token = $tokenlib->createToken($entry, $parameters, $groups, $arguments);
    echo json_encode(['token' => $token, 'entry' => $entry, 'parameters' => $parameters]), "\n";
} catch (\Throwable $e) {
    http_response_code(500);
    echo json_encode(['error' => get_class($e) . ': ' . $e->getMessage(), 'entry' => $entry, 'parameters' => $parameters]), "\n";
}
