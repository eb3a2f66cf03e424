<?php
/**
 * A long-running PHP process for tests/php_db_faults.rs: one TikiTokens\Store (DSN in argv[1],
 * connectTimeout 1, ioTimeout 1), driven by one command per line on stdin, one answer per line
 * on stdout, each with the time the call took in milliseconds:
 *
 *   lookup TOKEN ENTRY        → "grant MS HITSLEFT" | "denial MS REASON DETAIL"
 *   create ENTRY HITS         → "created MS TOKEN" | "exception MS CLASS MESSAGE"
 *   purge                     → "purged MS N" | "exception MS CLASS MESSAGE"
 *   state                     → "state MS TEXT"
 *   quit
 */
$store = new TikiTokens\Store($argv[1], ['connectTimeout' => 1, 'ioTimeout' => 1]);
while (($line = fgets(STDIN)) !== false) {
    $w = explode(' ', trim($line));
    $t = hrtime(true);
    $ms = static fn () => (int) round((hrtime(true) - $t) / 1e6);
    try {
        switch ($w[0]) {
            case 'lookup':
                $r = $store->lookup($w[1], $w[2], []);
                $out = $r instanceof TikiTokens\Grant
                    ? 'grant ' . $ms() . ' ' . $r->hitsLeft
                    : 'denial ' . $ms() . ' ' . $r->reason . ' ' . str_replace("\n", ' ', $r->detail);
                break;
            case 'create':
                $made = $store->create($w[1], [], ['Registered'], ['hits' => (int) $w[2], 'timeout' => -1]);
                $out = 'created ' . $ms() . ' ' . $made['token'];
                break;
            case 'purge':
                $out = 'purged ' . $ms() . ' ' . count($store->purge());
                break;
            case 'state':
                $out = 'state ' . $ms() . ' ' . $store->connectionState();
                break;
            case 'quit':
                exit(0);
            default:
                $out = 'unknown command';
        }
    } catch (TikiTokens\Exception $e) {
        $out = 'exception ' . $ms() . ' ' . get_class($e) . ' ' . str_replace("\n", ' ', $e->getMessage());
    }
    echo $out, "\n";
    flush();
}
