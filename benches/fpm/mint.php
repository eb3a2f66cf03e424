<?php
// Mints the tokens of the FPM load test with AuthTokens::includeToken (through the extension,
// on the same DSN the FPM pool uses) and writes the request lists that wrk's mix.lua reads.
//
//   php -n -d extension=<so> mint.php <dsn> <out-dir> <n-hits>
//
// Each list is one request per line: "<kind>\t<path?query>". A kind's weight in the mixed run is
// the number of its lines. In a path, {hex32} / {hex64} become fresh random lower-case hex of that
// length on every request (mix.lua). Kinds and what the server must answer (report.php checks):
//   valid     token with unlimited hits, its exact URL             200, X-Token-Result: granted
//   limited   token with 1,000,000,000 hits (each grant is an UPDATE)  200 granted
//   invalid   a valid token on another URL: param added / removed / changed, another script,
//             the token in upper case                              403 denied params_mismatch |
//                                                                  entry_mismatch | bad_signature
//   garbage   TOKEN of a wrong length, non-hex, an array, SQL, NUL  403 denied malformed
//   unknown   well-formed random hex (32 and 64) that no row holds  403 denied unknown
//   none      no TOKEN at all                                      200, X-Token-Result: none
//   nhit      the one token with exactly <n-hits> hits             200 granted exactly n times,
//                                                                  then 403 denied exhausted
// Files: mixed.tsv, nhit.tsv, malformed.tsv (garbage only), unknown.tsv (32-hex unknown only),
// tokens.json (ids and initial hits of the limited and n-hit tokens, the exact valid URLs).

declare(strict_types=1);
require __DIR__ . '/../../php/AuthTokens.php';

[, $dsn, $out, $nHits] = $argv + [null, null, null, null];
if ($dsn === null || $out === null || ! is_dir($out) || (int) $nHits < 1) {
    fwrite(STDERR, "usage: php mint.php <dsn> <out-dir> <n-hits>\n");
    exit(2);
}
$nHits = (int) $nHits;
const LIMITED_HITS = 1000000000;
const ORIGIN = 'http://tiki.example';

$lib = new AuthTokens($dsn, ['maxTimeout' => 604800, 'maxHits' => LIMITED_HITS]);

/** Mints a URL and returns [path?query with TOKEN, token, tokenId]. */
function mint(AuthTokens $lib, string $pathQuery, int $timeout, int $hits): array
{
    $url = $lib->includeToken(ORIGIN . $pathQuery, ['Registered', 'Editors'], 'load@example.org', $timeout, $hits);
    if (strpos($url, ORIGIN) !== 0) {
        throw new RuntimeException("includeToken returned an unexpected URL: $url");
    }
    $token = $lib->getTokenFromUrl($url);
    $row = $token === null ? null : $lib->getToken($token);
    if ($row === null) {
        throw new RuntimeException("minted token not found again: $url");
    }
    return [substr($url, strlen(ORIGIN)), $token, (int) $row['tokenId']];
}

/** [path, query pairs without TOKEN, TOKEN pair] of a minted path. */
function split_minted(string $minted): array
{
    [$path, $query] = explode('?', $minted, 2);
    $pairs = explode('&', $query);
    $tokenPair = array_pop($pairs);
    if (strpos($tokenPair, 'TOKEN=') !== 0) {
        throw new RuntimeException("TOKEN is not last in $minted");
    }
    return [$path, $pairs, $tokenPair];
}

function join_query(string $path, array $pairs): string
{
    return $pairs ? $path . '?' . implode('&', $pairs) : $path;
}

$unlimitedUrls = [
    '/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&separator=%2C&listfields[]=2&listfields[]=3',
    '/tiki-index.php?page=HomePage',
    '/tiki-index.php?page=Percent%25Sign&x=%2526',
    '/tiki-index.php?page=Home+Page&q=a%20b',
    '/tiki-download_file.php?fileId=42',
    '/tiki-index.php?filter[status][0]=o&filter[status][1]=p&filter[type]=x',
    '/tiki-index.php?page=%C3%A9t%C3%A9&lang=fr',
    '/tiki-index.php?empty=&zero=0&page=A',
    '/tiki-index.php',
];
$limitedUrls = [
    '/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=7',
    '/tiki-index.php?page=Limited+Page',
    '/tiki-download_file.php?fileId=7',
];

$mixed = [];
$add = static function (string $kind, string $path, int $weight = 1) use (&$mixed): void {
    for ($i = 0; $i < $weight; $i++) {
        $mixed[] = "$kind\t$path";
    }
};

$valid = [];
foreach ($unlimitedUrls as $u) {
    [$minted, $token, $id] = mint($lib, $u, -1, -1);
    $valid[] = ['url' => $minted, 'token' => $token, 'tokenId' => $id];
    $add('valid', $minted, 4);

    // The same token on other URLs: denied.
    [$path, $pairs, $tokenPair] = split_minted($minted);
    $add('invalid', join_query($path, array_merge($pairs, ['extra=1', $tokenPair])));
    if ($pairs) {
        $add('invalid', join_query($path, array_merge(array_slice($pairs, 1), [$tokenPair])));
        $changed = $pairs;
        $changed[count($changed) - 1] .= 'x';
        $add('invalid', join_query($path, array_merge($changed, [$tokenPair])));
    }
    $other = $path === '/tiki-download_file.php' ? '/tiki-index.php' : '/tiki-download_file.php';
    $add('invalid', join_query($other, array_merge($pairs, [$tokenPair])));
    $add('invalid', join_query($path, array_merge($pairs, ['TOKEN=' . strtoupper($token)])));
}
// 01 for 1: numbers compare as bytes.
$add('invalid', str_replace('fileId=42', 'fileId=042', $valid[4]['url']));

$limited = [];
foreach ($limitedUrls as $u) {
    [$minted, $token, $id] = mint($lib, $u, 604800, LIMITED_HITS);
    $limited[] = ['url' => $minted, 'tokenId' => $id, 'hits' => LIMITED_HITS];
    $add('limited', $minted, 4);
}

[$nhitUrl, , $nhitId] = mint($lib, "/tiki-index.php?page=Race&n=$nHits", 604800, $nHits);

$hex = static fn (int $n): string => substr(bin2hex(random_bytes(intdiv($n + 1, 2))), 0, $n);
$garbage = [
    '/tiki-index.php?page=HomePage&TOKEN=',
    '/tiki-index.php?page=HomePage&TOKEN=abc',
    '/tiki-index.php?page=HomePage&TOKEN=' . $hex(31),
    '/tiki-index.php?page=HomePage&TOKEN=' . $hex(33),
    '/tiki-index.php?page=HomePage&TOKEN=' . $hex(63),
    '/tiki-index.php?page=HomePage&TOKEN=' . $hex(65),
    '/tiki-index.php?page=HomePage&TOKEN=' . $hex(2000),
    '/tiki-index.php?page=HomePage&TOKEN=' . substr($hex(32), 0, 31) . 'g',
    '/tiki-index.php?page=HomePage&TOKEN=' . substr($hex(32), 0, 30) . '%00a',
    '/tiki-index.php?page=HomePage&TOKEN=' . $hex(32) . '%20',
    '/tiki-index.php?page=HomePage&TOKEN=%ZZ' . $hex(29),
    '/tiki-index.php?page=HomePage&TOKEN=%27%20OR%20%271%27%3D%271',
    '/tiki-index.php?page=HomePage&TOKEN[]=' . $hex(32),
    '/tiki-index.php?page=HomePage&TOKEN[a][b]=' . $hex(32),
    '/tiki-download_file.php?fileId=42&TOKEN={hex32}z',
    '/tiki-ajax_services.php?controller=tracker&TOKEN=' . str_repeat('%C3%A9', 16),
];
foreach ($garbage as $g) {
    $add('garbage', $g);
}
$unknown = [
    '/tiki-index.php?page=HomePage&TOKEN={hex32}',
    '/tiki-download_file.php?fileId=42&TOKEN={hex32}',
    '/tiki-ajax_services.php?controller=tracker&action=export_items&trackerId=3&TOKEN={hex32}',
    '/tiki-index.php?TOKEN={hex32}',
];
foreach ($unknown as $u) {
    $add('unknown', $u, 3);
}
$add('unknown', '/tiki-index.php?page=HomePage&TOKEN={hex64}', 2);
$add('none', '/tiki-index.php?page=HomePage', 6);
$add('none', '/tiki-index.php', 4);

file_put_contents("$out/mixed.tsv", implode("\n", $mixed) . "\n");
file_put_contents("$out/nhit.tsv", "nhit\t$nhitUrl\n");
file_put_contents("$out/malformed.tsv", implode("\n", array_map(static fn ($g) => "garbage\t$g", $garbage)) . "\n");
file_put_contents("$out/unknown.tsv", implode("\n", array_map(
    static fn ($u) => "unknown\t$u",
    array_slice($unknown, 0, 4)
)) . "\n");
file_put_contents("$out/tokens.json", json_encode([
    'valid' => $valid,
    'limited' => $limited,
    'nhit' => ['url' => $nhitUrl, 'tokenId' => $nhitId, 'hits' => $nHits],
], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");

$kinds = array_count_values(array_map(static fn ($l) => strstr($l, "\t", true), $mixed));
ksort($kinds);
$weights = [];
foreach ($kinds as $k => $n) {
    $weights[] = sprintf('%s %d%%', $k, round(100 * $n / count($mixed)));
}
printf("minted %d unlimited, %d limited, 1 with %d hits; mixed list: %d lines (%s)\n",
    count($valid), count($limited), $nHits, count($mixed), implode(', ', $weights));
