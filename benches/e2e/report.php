<?php
// Turns the benchmark's raw lines (results.jsonl, one per table × size × engine × implementation ×
// round) into the table, the ratios, the growth from the smallest to the largest table, the
// verdict on issue 5's goals (Tiki 24's table) and on issue 11's (the drop-in against a prepared
// `SELECT *` on the signed table, by secret source), results.csv, ratios.csv, signed.csv,
// results.md (the tables for the README) and latency.png (gnuplot).
//
//   php report.php target/bench-e2e

declare(strict_types=1);

/** Characters of a UTF-8 string (no mbstring needed). */
function ulen(string $s): int
{
    return (int) preg_match_all('/./su', $s);
}

$dir = $argv[1] ?? (__DIR__ . '/../../target/bench-e2e');
$rows = [];
foreach (file("$dir/results.jsonl", FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
    $rows[] = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
}
if (! $rows) {
    fwrite(STDERR, "no results in $dir/results.jsonl\n");
    exit(1);
}
// Pool the rounds of each (size, engine, implementation): all their latency samples, calls,
// wall time and counter deltas; keep the spread of the rounds' p50 as a measure of the noise.
$groups = [];
foreach ($rows as $x) {
    $x['table'] ??= 'tiki24'; // runs before the signed table existed
    $groups[$x['table'] . '|' . $x['size'] . '|' . $x['engine'] . '|' . $x['impl']][] = $x;
}
$rows = [];
foreach ($groups as $g) {
    $x = $g[0];
    $ns = [];
    $n = 0;
    $elapsed = 0.0;
    $delta = [];
    $p50s = [];
    $byRound = [];
    $loads = [];
    $cpu = 0.0;
    $serverCpu = 0.0;
    foreach ($g as $y) {
        $cpu = ($cpu === null || ! isset($y['cpu_us'])) ? null : $cpu + $y['cpu_us'] * $y['n'];
        $serverCpu = ($serverCpu === null || ! isset($y['server_cpu_us'])) ? null : $serverCpu + $y['server_cpu_us'] * $y['n'];
        $f = "$dir/samples/{$y['size']}-{$y['engine']}-{$y['table']}-{$y['impl']}-" . ($y['round'] ?? 1) . '.txt';
        if (! is_file($f)) { // runs before the signed table existed
            $f = "$dir/samples/{$y['size']}-{$y['engine']}-{$y['impl']}-" . ($y['round'] ?? 1) . '.txt';
        }
        if (is_file($f)) {
            foreach (file($f, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $v) {
                $ns[] = (int) $v;
            }
        }
        $n += $y['n'];
        $elapsed += $y['elapsed_s'] ?? $y['n'] / $y['ops_per_s'];
        foreach ($y['delta'] ?? [] as $k => $v) {
            $delta[$k] = ($delta[$k] ?? 0) + $v;
        }
        $p50s[] = $y['p50_us'];
        $byRound[$y['round'] ?? 1] = $y['p50_us'];
        $loads[] = $y['load1'] ?? 0;
        if (isset($y['backlog'])) {
            $x['backlog'] = $y['backlog'];
        }
    }
    $x['rounds'] = count($g);
    $x['cpu_us'] = $cpu === null ? null : round($cpu / $n, 1);
    $x['server_cpu_us'] = $serverCpu === null ? null : round($serverCpu / $n, 1);
    $x['n'] = $n;
    $x['ops_per_s'] = round($n / $elapsed, 1);
    if (count($ns) === $n) {
        sort($ns);
        $x['p50_us'] = round($ns[(int) ceil(0.50 * $n) - 1] / 1000, 1);
        $x['p99_us'] = round($ns[(int) ceil(0.99 * $n) - 1] / 1000, 1);
        $x['mean_us'] = round(array_sum($ns) / $n / 1000, 1);
        $x['min_us'] = round($ns[0] / 1000, 1);
        $x['max_us'] = round($ns[$n - 1] / 1000, 1);
    }
    if ($delta) {
        foreach ($delta as $k => $v) {
            $x['per_op'][$k] = round($v / $n, 3);
        }
    }
    $x['p50_rounds'] = [min($p50s), max($p50s)];
    $x['p50_by_round'] = $byRound;
    $x['load1'] = max($loads);
    unset($x['round'], $x['delta'], $x['elapsed_s']);
    $rows[] = $x;
}

$run = is_file("$dir/run.json") ? json_decode(file_get_contents("$dir/run.json"), true) : [];

/** r[table][size][engine][impl] */
$r = [];
foreach ($rows as $x) {
    $r[$x['table']][$x['size']][$x['engine']][$x['impl']] = $x;
}
foreach ($r as &$bySize) {
    ksort($bySize);
}
unset($bySize);
$tables = array_values(array_intersect(['tiki24', 'trunk'], array_keys($r)));
$tableName = ['tiki24' => 'Tiki 24 (MD5 tokens)', 'trunk' => 'trunk (signed tokens)'];
$sizes = array_values(array_unique(array_column($rows, 'size')));
sort($sizes);
$engines = array_values(array_unique(array_column($rows, 'engine')));
$impls = array_values(array_unique(array_column($rows, 'impl')));

$writes = fn (array $x) => $x['per_op']['Com_update'] + $x['per_op']['Com_delete'] + $x['per_op']['Com_insert'];
$fmt = fn (float $v) => $v >= 100 ? number_format($v, 0, '.', ',') : number_format($v, 1, '.', ',');
$fmtRatio = fn (float $v) => $v >= 10 ? number_format($v, 0) : ($v >= 0.1 ? number_format($v, 2) : number_format($v, 4));

// ---- the table
$head = ['table', 'rows', 'engine', 'implementation', 'calls', 'calls/s', 'p50 µs', 'p99 µs', 'p50 of rounds µs', 'client CPU µs/call', 'server CPU µs/call', 'queries/call', 'rows scanned/call', 'writes/call'];
$table = [];
foreach ($tables as $t) {
    foreach ($r[$t] as $size => $byEngine) {
        foreach ($engines as $engine) {
            foreach ($impls as $impl) {
                $x = $byEngine[$engine][$impl] ?? null;
                if ($x === null) {
                    continue;
                }
                $table[] = [
                    $t, number_format($size), $engine, $impl, (string) $x['n'], $fmt($x['ops_per_s']), $fmt($x['p50_us']),
                    $fmt($x['p99_us']),
                    $x['rounds'] > 1 ? $fmt($x['p50_rounds'][0]) . '–' . $fmt($x['p50_rounds'][1]) : '',
                    $x['cpu_us'] === null ? '' : $fmt($x['cpu_us']),
                    $x['server_cpu_us'] === null ? '' : $fmt($x['server_cpu_us']),
                    (string) $x['per_op']['Questions'], $fmt($x['per_op']['Handler_read_rnd_next']),
                    (string) $writes($x),
                ];
            }
        }
    }
}
/** A Markdown table. */
$markdown = function (array $head, array $body): string {
    $md = '| ' . implode(' | ', $head) . " |\n|" . str_repeat(' --- |', count($head)) . "\n";
    foreach ($body as $t) {
        $md .= '| ' . implode(' | ', $t) . " |\n";
    }
    return $md;
};
/** A plain-text table for stdout: the first $left columns left-aligned, the rest right-aligned. */
$plain = function (array $head, array $body, int $left): string {
    $widths = array_map(fn ($i) => max(array_map(fn ($t) => ulen($t[$i]), array_merge([$head], $body))), array_keys($head));
    $out = '';
    foreach (array_merge([$head], $body) as $t) {
        $s = '';
        foreach ($t as $i => $cell) {
            $pad = $widths[$i] - ulen($cell);
            $s .= ($i < $left ? $cell . str_repeat(' ', $pad) : str_repeat(' ', $pad) . $cell) . '  ';
        }
        $out .= rtrim($s) . "\n";
    }
    return $out;
};
$md = $markdown($head, $table);
echo "\n== results (p50/p99: latency of one call in one long-lived PHP process; per-call counts from SHOW GLOBAL STATUS)\n";
if ($run) {
    echo "   run: {$run['started']}, {$run['nproc']} cores, load at start {$run['load']}, PHP {$run['php']}, {$run['server']}"
        . ($run['own_server'] ? ' (throw-away server)' : ' (given server)') . (isset($run['pin']) ? ", pinned: {$run['pin']}" : '') . "\n";
}
echo $plain($head, $table, 4);
foreach ($rows as $x) {
    if (isset($x['backlog']) && $x['backlog']['rows_deleted'] > 0) {
        $b = $x['backlog'];
        printf("   %s %s %s %s: before the timed calls, %d lookups deleted the %d expired rows (p50 %s µs, max %s µs); timed calls are the steady state\n",
            $x['table'], number_format($x['size']), $x['engine'], $x['impl'], $b['lookups'], $b['rows_deleted'], $fmt($b['p50_us']), $fmt($b['max_us']));
    }
}

// ---- ratios (of p50 latency)
$ratio = function (string $t, int $size, string $engine, string $a, string $b) use ($r): ?float {
    $x = $r[$t][$size][$engine][$a] ?? null;
    $y = $r[$t][$size][$engine][$b] ?? null;
    return ($x && $y && $y['p50_us'] > 0) ? $x['p50_us'] / $y['p50_us'] : null;
};
/** The ratio of the two implementations' p50 in each round (rounds run interleaved): the noise. */
$roundRatios = function (string $t, int $size, string $engine, string $a, string $b) use ($r): array {
    $x = $r[$t][$size][$engine][$a]['p50_by_round'] ?? [];
    $y = $r[$t][$size][$engine][$b]['p50_by_round'] ?? [];
    $out = [];
    foreach ($x as $round => $p50) {
        if (isset($y[$round]) && $y[$round] > 0) {
            $out[] = $p50 / $y[$round];
        }
    }
    return $out;
};
$pairs = [
    ['ext-unlimited', 'floor-select', 'shim / floor (unlimited: one point SELECT)'],
    ['ext-limited', 'floor-select-update', 'shim / floor (limited: SELECT + UPDATE)'],
    ['ext-native-unlimited', 'floor-select', 'native / floor (unlimited)'],
    ['ext-native-limited', 'floor-select-update', 'native / floor (limited)'],
    ['ext-unknown', 'floor-select', 'unknown token / one point SELECT'],
    ['floor-select-star', 'floor-select', 'SELECT * / SELECT of named columns'],
    ['ext-unlimited-prefs', 'floor-select-star', 'shim, secret from $prefs / SELECT *'],
    ['ext-unlimited', 'floor-select-star', 'shim, secret from the table / SELECT *'],
    ['ext-native-unlimited-prefs', 'floor-select-star', 'native, secret from $prefs / SELECT *'],
    ['ext-native-unlimited', 'floor-select-star', 'native, secret from the table / SELECT *'],
    ['ext-limited-prefs', 'floor-select-update', 'shim limited, secret from $prefs / floor'],
    ['ext-native-limited-prefs', 'floor-select-update', 'native limited, secret from $prefs / floor'],
    ['ext-unknown-prefs', 'floor-select', 'unknown token, secret from $prefs / SELECT'],
    ['ext-unlimited', 'ext-unlimited-prefs', 'secret from the table / from $prefs (shim)'],
    ['tiki24-unlimited', 'ext-unlimited', 'Tiki 24 / shim (unlimited)'],
    ['tiki24-limited', 'ext-limited', 'Tiki 24 / shim (limited)'],
    ['tiki24-create', 'ext-create', 'Tiki 24 create / shim create'],
    ['ext-create', 'ext-create-prefs', 'create: secret from the table / from $prefs'],
];
$ratioCsv = [];
echo "\n== ratios of p50 latency\n";
foreach ($tables as $t) {
    foreach ($pairs as [$a, $b, $label]) {
        $cells = [];
        foreach ($sizes as $size) {
            foreach ($engines as $engine) {
                $v = $ratio($t, $size, $engine, $a, $b);
                if ($v !== null) {
                    $cells[] = sprintf('%s %s %s×', number_format($size), $engine, $fmtRatio($v));
                    $ratioCsv[] = [$a, $b, $t, $size, $engine, round($v, 3)];
                }
            }
        }
        if ($cells) {
            printf("   %-7s %-44s %s\n", $t, $label, implode(', ', $cells));
        }
    }
}

// ---- what the extension adds on the client: its process's CPU per call minus the floor's
$cpuPairs = [
    ['ext-unlimited', 'floor-select'], ['ext-native-unlimited', 'floor-select'],
    ['ext-limited', 'floor-select-update'], ['ext-native-limited', 'floor-select-update'],
    ['ext-unlimited-prefs', 'floor-select-star'], ['ext-unlimited', 'floor-select-star'],
    ['ext-native-unlimited-prefs', 'floor-select-star'], ['ext-native-unlimited', 'floor-select-star'],
    ['ext-limited-prefs', 'floor-select-update'], ['ext-native-limited-prefs', 'floor-select-update'],
];
echo "\n== CPU per call, implementation − floor, µs: client (getrusage of the PHP process) / server (mariadbd's threads, when it runs here)\n";
foreach ($tables as $t) {
    foreach ($cpuPairs as [$a, $b]) {
        $cells = [];
        foreach ($sizes as $size) {
            foreach ($engines as $engine) {
                $x = $r[$t][$size][$engine][$a] ?? null;
                $y = $r[$t][$size][$engine][$b] ?? null;
                if ($x && $y && $x['cpu_us'] !== null && $y['cpu_us'] !== null) {
                    $server = $x['server_cpu_us'] !== null && $y['server_cpu_us'] !== null
                        ? sprintf(' / %+.1f', $x['server_cpu_us'] - $y['server_cpu_us']) : '';
                    $cells[] = sprintf('%s %s %+.1f%s', number_format($size), $engine, $x['cpu_us'] - $y['cpu_us'], $server);
                }
            }
        }
        if ($cells) {
            printf("   %-7s %-44s %s\n", $t, "$a − $b", implode(', ', $cells));
        }
    }
}

// ---- growth from the smallest to the largest table
$lo = min($sizes);
$hi = max($sizes);
$growth = [];
if ($lo !== $hi) {
    echo "\n== growth of p50 from " . number_format($lo) . ' to ' . number_format($hi) . " rows\n";
    foreach ($tables as $t) {
        foreach ($impls as $impl) {
            $cells = [];
            foreach ($engines as $engine) {
                $a = $r[$t][$lo][$engine][$impl] ?? null;
                $b = $r[$t][$hi][$engine][$impl] ?? null;
                if ($a && $b) {
                    $g = $b['p50_us'] / $a['p50_us'];
                    $growth[$t][$impl][$engine] = $g;
                    $cells[] = sprintf('%s %s×', $engine, $fmtRatio($g));
                }
            }
            if ($cells) {
                printf("   %-7s %-28s %s\n", $t, $impl, implode(', ', $cells));
            }
        }
    }
}

// ---- issue 5's goals, on Tiki 24's table (where they were set)
$verdicts = [];
$goal = function (string $name, ?bool $met, string $detail) use (&$verdicts): void {
    $verdicts[] = [$name, $met === null ? 'n/a' : ($met ? 'MET' : 'MISSED'), $detail];
};
/** The worst ratio a/b over the given sizes (all: null) and every engine of table $t. */
$all = function (string $t, string $a, string $b, float $limit, ?array $only = null) use ($sizes, $engines, $ratio): array {
    $worst = null;
    $where = '';
    foreach ($only ?? $sizes as $size) {
        foreach ($engines as $engine) {
            $v = $ratio($t, $size, $engine, $a, $b);
            if ($v !== null && ($worst === null || $v > $worst)) {
                $worst = $v;
                $where = number_format($size) . " $engine";
            }
        }
    }
    return $worst === null ? [null, 'not measured'] : [$worst <= $limit, sprintf('worst %.2f× (%s)', $worst, $where)];
};
[$m, $d] = $all('tiki24', 'ext-limited', 'floor-select-update', 1.2);
$goal('lookup (limited hits) within 1.2× of the floor at every size', $m, $d);
[$m, $d] = $all('tiki24', 'ext-unlimited', 'floor-select', 1.2);
$goal('lookup (unlimited) within 1.2× of one point SELECT', $m, $d);
foreach (['ext-unlimited', 'ext-limited'] as $impl) {
    if ($hi >= 1000000 && $lo <= 1000 && isset($growth['tiki24'][$impl])) {
        $g = max($growth['tiki24'][$impl]);
        $floor = $impl === 'ext-unlimited' ? 'floor-select' : 'floor-select-update';
        $fg = isset($growth['tiki24'][$floor]) ? sprintf('; the floor itself grew %s', implode(', ', array_map(
            fn ($e) => sprintf('%s %.2f×', $e, $growth['tiki24'][$floor][$e]), array_keys($growth['tiki24'][$floor])))) : '';
        $goal("flat: $impl p50 at 1M / 1k rows ≤ 1.3×", $g <= 1.3, sprintf('worst %.2f×%s', $g, $fg));
    } else {
        $goal("flat: $impl p50 at 1M / 1k rows ≤ 1.3×", null, 'needs sizes 1000 and 1000000');
    }
}
$at1m = [];
foreach ([['tiki24-unlimited', 'ext-unlimited'], ['tiki24-limited', 'ext-limited']] as [$a, $b]) {
    foreach ($engines as $engine) {
        $v = $ratio('tiki24', 1000000, $engine, $a, $b);
        if ($v !== null) {
            $at1m[] = [$v, "$a/$b $engine"];
        }
    }
}
if ($at1m) {
    usort($at1m, fn ($p, $q) => $p[0] <=> $q[0]);
    $goal('≥ 100× faster than Tiki 24 at 1M rows', $at1m[0][0] >= 100, sprintf('least %.0f× (%s)', $at1m[0][0], $at1m[0][1]));
} else {
    $goal('≥ 100× faster than Tiki 24 at 1M rows', null, 'needs size 1000000 and both implementations');
}
/** A check of the per-call server counters of every row of an implementation on table $t. */
$perOp = function (string $t, string $impl, callable $check) use ($rows): array {
    $seen = [];
    $ok = true;
    foreach ($rows as $x) {
        if ($x['impl'] === $impl && $x['table'] === $t) {
            [$good, $text] = $check($x['per_op']);
            $ok = $ok && $good;
            $seen[$text] = true;
        }
    }
    return $seen ? [$ok, implode('; ', array_keys($seen))] : [null, 'not measured'];
};
$noRoundTrip = fn ($p) => [$p['Questions'] == 0, "{$p['Questions']} statements/call"];
/** One indexed SELECT and no write; $keys index reads at most (2 when the SELECT also reads the secret by primary key). */
$oneIndexedSelect = fn (int $keys) => fn ($p) => [
    $p['Questions'] == 1 && $p['Com_select'] == 1 && $p['Handler_read_rnd_next'] == 0
        && $p['Com_update'] + $p['Com_delete'] + $p['Com_insert'] == 0 && $p['Handler_read_key'] <= $keys,
    sprintf('%s statements, %s SELECT, %s index reads, %s rows scanned, %s writes /call', $p['Questions'], $p['Com_select'],
        $p['Handler_read_key'], $p['Handler_read_rnd_next'], $p['Com_update'] + $p['Com_delete'] + $p['Com_insert']),
];
[$m, $d] = $perOp('tiki24', 'ext-malformed', $noRoundTrip);
$goal('malformed token: zero round trips', $m, $d);
[$m, $d] = $perOp('tiki24', 'ext-unknown', $oneIndexedSelect(1));
$goal('well-formed unknown token: one indexed SELECT, no write', $m, $d);
$goal('canonical form of a typical query < 1 µs', null, 'see cargo bench --bench canon');
if (in_array('tiki24', $tables, true)) {
    echo "\n== issue 5 goals (Tiki 24's table)\n";
    foreach ($verdicts as [$name, $state, $detail]) {
        printf("   %-6s %s%s %s\n", $state, $name, str_repeat(' ', max(0, 62 - ulen($name))), $detail);
    }
}
$issue5 = $verdicts;

// ---- issue 11: the drop-in against a prepared SELECT * by token, by secret source; measured
// side by side in one process (sbs.*, the issue's method) and in separate processes
$signedHead = ['method', 'table', 'rows', 'engine', 'secret source', 'drop-in p50 µs', 'SELECT * p50 µs', 'drop-in / SELECT *', 'the same, by round',
    'native p50 µs', 'native / SELECT *', 'limited: drop-in / SELECT + UPDATE', 'drop-in − SELECT *: client CPU µs/call', 'the same, server CPU', 'goal'];
$methods = ['sbs.' => 'side by side, one process', '' => 'separate processes'];
$signed = [];
$signedCsv = [];
foreach ($methods as $prefix => $method) {
    foreach ($tables as $t) {
        $sources = $t === 'trunk'
            ? ['Tiki\'s preferences ($prefs)' => ['-prefs', 1.1], 'the table (tiki_preferences)' => ['', 1.2]]
            : ['none (MD5 tokens)' => ['', null]];
        foreach ($r[$t] as $size => $byEngine) {
            foreach ($engines as $engine) {
                foreach ($sources as $source => [$suffix, $limit]) {
                    $d = $byEngine[$engine]["{$prefix}ext-unlimited$suffix"] ?? null;
                    $f = $byEngine[$engine]["{$prefix}floor-select-star"] ?? null;
                    if (! $d || ! $f) {
                        continue;
                    }
                    $n = $byEngine[$engine]["{$prefix}ext-native-unlimited$suffix"] ?? null;
                    $l = $prefix === '' ? $ratio($t, $size, $engine, "ext-limited$suffix", 'floor-select-update') : null;
                    $v = $d['p50_us'] / $f['p50_us'];
                    $rounds = $roundRatios($t, $size, $engine, "{$prefix}ext-unlimited$suffix", "{$prefix}floor-select-star");
                    $cpu = $d['cpu_us'] !== null && $f['cpu_us'] !== null ? $d['cpu_us'] - $f['cpu_us'] : null;
                    $server = $d['server_cpu_us'] !== null && $f['server_cpu_us'] !== null ? $d['server_cpu_us'] - $f['server_cpu_us'] : null;
                    $signed[] = [
                        $method, $t, number_format($size), $engine, $source, $fmt($d['p50_us']), $fmt($f['p50_us']), sprintf('%.2f×', $v),
                        $rounds ? sprintf('%.2f–%.2f', min($rounds), max($rounds)) : '',
                        $n ? $fmt($n['p50_us']) : '', $n ? sprintf('%.2f×', $n['p50_us'] / $f['p50_us']) : '',
                        $l !== null ? sprintf('%.2f×', $l) : '',
                        $cpu !== null ? sprintf('%+.1f', $cpu) : '',
                        $server !== null ? sprintf('%+.1f', $server) : '',
                        $limit === null ? '' : sprintf('≤ %.1f×: %s', $limit, $v <= $limit ? 'met' : 'MISSED'),
                    ];
                    $signedCsv[] = [$prefix === '' ? 'separate' : 'side-by-side', $t, $size, $engine,
                        $suffix === '-prefs' ? 'prefs' : ($t === 'trunk' ? 'table' : 'none'),
                        $d['p50_us'], $f['p50_us'], round($v, 3), $rounds ? round(min($rounds), 3) : '', $rounds ? round(max($rounds), 3) : '',
                        $n['p50_us'] ?? '', $n ? round($n['p50_us'] / $f['p50_us'], 3) : '', $l !== null ? round($l, 3) : '',
                        $d['cpu_us'] ?? '', $f['cpu_us'] ?? '', $d['server_cpu_us'] ?? '', $f['server_cpu_us'] ?? '', $limit ?? ''];
                }
            }
        }
    }
}
$verdicts = [];
$goalSizes = [1000, 100000];
$complete = in_array('trunk', $tables, true) && ! array_diff($goalSizes, $sizes) && ! array_diff(['MyISAM', 'InnoDB'], $engines);
foreach ($methods as $prefix => $method) {
    foreach ([['-prefs', 1.1, 'the secret from Tiki\'s preferences ($prefs)'], ['', 1.2, 'the secret from the table']] as [$suffix, $limit, $what]) {
        [$m, $d] = $all('trunk', "{$prefix}ext-unlimited$suffix", "{$prefix}floor-select-star", $limit, $goalSizes);
        if (! $complete) {
            [$m, $d] = [null, "needs the trunk table, sizes 1000 and 100000, both engines ($d)"];
        }
        $goal("drop-in ≤ {$limit}× a prepared SELECT * by token, $what (signed table, 1k and 100k rows, both engines; $method)", $m, $d);
    }
}
[$m, $d] = $perOp('trunk', 'ext-malformed', $noRoundTrip);
$goal('signed table: malformed token, zero round trips', $m, $d);
[$m, $d] = $perOp('trunk', 'ext-unknown-prefs', $oneIndexedSelect(1));
$goal('signed table, secret from $prefs: unknown token, one indexed SELECT, no write', $m, $d);
// The secret's subquery is uncorrelated: the server reads it (by primary key) even when no row
// holds the token.
[$m, $d] = $perOp('trunk', 'ext-unknown', $oneIndexedSelect(2));
$goal('signed table, secret from the table: unknown token, one SELECT (token index + the secret by primary key), no write', $m, $d);
$issue11 = $verdicts;
if ($signed) {
    echo "\n== issue 11: the drop-in's lookup (unlimited hits) against a prepared `SELECT * FROM tiki_auth_tokens WHERE token = ?` (PDO, native prepares)\n";
    echo $plain($signedHead, $signed, 5);
    echo "\n== issue 11 goals\n";
    foreach ($issue11 as [$name, $state, $detail]) {
        printf("   %-6s %s   %s\n", $state, $name, $detail);
    }
}

// ---- files
$csv = fopen("$dir/results.csv", 'w');
$cols = ['table', 'size', 'engine', 'impl', 'rounds', 'n', 'ops_per_s', 'p50_us', 'p99_us', 'mean_us', 'min_us', 'max_us', 'cpu_us', 'server_cpu_us', 'p50_round_min', 'p50_round_max', 'load1', 'notes'];
fputcsv($csv, array_merge($cols, array_map(fn ($k) => "per_call_$k", array_keys($rows[0]['per_op']))), ',', '"', '');
foreach ($rows as $x) {
    $x['p50_round_min'] = $x['p50_rounds'][0];
    $x['p50_round_max'] = $x['p50_rounds'][1];
    fputcsv($csv, array_merge(array_map(fn ($c) => $x[$c] ?? '', $cols), array_values($x['per_op'])), ',', '"', '');
}
fclose($csv);
$csv = fopen("$dir/ratios.csv", 'w');
fputcsv($csv, ['numerator', 'denominator', 'table', 'size', 'engine', 'p50_ratio'], ',', '"', '');
foreach ($ratioCsv as $row) {
    fputcsv($csv, $row, ',', '"', '');
}
fclose($csv);
$csv = fopen("$dir/signed.csv", 'w');
fputcsv($csv, ['method', 'table', 'size', 'engine', 'secret_source', 'dropin_p50_us', 'select_star_p50_us', 'ratio', 'ratio_round_min', 'ratio_round_max',
    'native_p50_us', 'native_ratio', 'limited_ratio_vs_select_update', 'dropin_cpu_us', 'select_star_cpu_us', 'dropin_server_cpu_us', 'select_star_server_cpu_us', 'goal_limit'], ',', '"', '');
foreach ($signedCsv as $row) {
    fputcsv($csv, $row, ',', '"', '');
}
fclose($csv);
$goalsMd = function (array $verdicts) use ($markdown): string {
    return $markdown(['goal', 'verdict', 'detail'], array_map(fn ($v) => [$v[0], $v[1], str_replace('|', '\|', $v[2])], $verdicts));
};
if (in_array('tiki24', $tables, true)) {
    $md .= "\nIssue 5 goals (Tiki 24's table):\n\n" . $goalsMd($issue5);
}
if ($signed) {
    $md .= "\nIssue 11: the drop-in's lookup (unlimited hits) against a prepared `SELECT * FROM tiki_auth_tokens WHERE token = ?`:\n\n"
        . $markdown($signedHead, array_map(fn ($row) => array_map(fn ($c) => str_replace('|', '\|', $c), $row), $signed))
        . "\nIssue 11 goals:\n\n" . $goalsMd($issue11);
}
file_put_contents("$dir/results.md", $md);

// ---- the plot: p50 vs table size, log-log, one panel per table, one line per implementation and engine
$dat = '';
$panels = [];
$block = 0;
$colors = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#1f78b4', '#b2df8a', '#fb9a99', '#cab2d6',
    '#33a02c', '#e31a1c', '#ff7f00', '#6a3d9a', '#b15928', '#000000', '#a6cee3'];
foreach ($tables as $t) {
    $plots = [];
    foreach ($impls as $i => $impl) {
        foreach ($engines as $j => $engine) {
            $points = '';
            foreach ($sizes as $size) {
                if (isset($r[$t][$size][$engine][$impl])) {
                    $points .= "$size {$r[$t][$size][$engine][$impl]['p50_us']}\n";
                }
            }
            if ($points === '') {
                continue;
            }
            $dat .= "# $t $impl $engine\n$points\n\n";
            $plots[] = sprintf("'latency.dat' index %d with linespoints lw 2 pt %d dt %d lc rgb '%s' title '%s %s'",
                $block++, 7 + $j, 1 + 2 * $j, $colors[$i % count($colors)], $impl, $engine);
        }
    }
    $panels[] = sprintf("set title '%s'\nplot \\\n  %s\n", str_replace('_', '\_', $tableName[$t]), implode(", \\\n  ", $plots));
}
file_put_contents("$dir/latency.dat", $dat);
$columns = max(1, count($panels));
$width = 1200 * $columns;
$gp = <<<GP
set terminal pngcairo size $width,900 font ',10'
set output 'latency.png'
set multiplot layout 1,$columns
set logscale xy
set xlabel 'rows in tiki\_auth\_tokens'
set ylabel 'p50 latency of one call (µs)'
set format x '10^{%L}'
set format y '10^{%L}'
set grid
set key outside right
set xrange [500:2000000]

GP;
file_put_contents("$dir/latency.gp", $gp . implode("\n", $panels) . "unset multiplot\n");
if (trim((string) shell_exec('command -v gnuplot')) !== '') {
    $cmd = 'cd ' . escapeshellarg($dir) . ' && gnuplot latency.gp 2>&1';
    $outp = shell_exec($cmd);
    clearstatcache();
    if (is_file("$dir/latency.png") && filesize("$dir/latency.png") > 0) {
        echo "\nwrote $dir/results.csv, ratios.csv, signed.csv, results.md, latency.png\n";
    } else {
        echo "\ngnuplot failed: $outp\n";
    }
} else {
    echo "\nwrote $dir/results.csv, ratios.csv, signed.csv, results.md (no gnuplot: no latency.png)\n";
}
