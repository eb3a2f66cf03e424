<?php
// Turns the benchmark's raw lines (results.jsonl, one per size × engine × implementation) into the
// table, the ratios, the growth from the smallest to the largest table, the verdict on issue 5's
// goals, results.csv, results.md (the table for the README) and latency.png (gnuplot).
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
    $groups[$x['size'] . '|' . $x['engine'] . '|' . $x['impl']][] = $x;
}
$rows = [];
foreach ($groups as $g) {
    $x = $g[0];
    $ns = [];
    $n = 0;
    $elapsed = 0.0;
    $delta = [];
    $p50s = [];
    $loads = [];
    $cpu = 0.0;
    foreach ($g as $y) {
        $cpu += ($y['cpu_us'] ?? 0) * $y['n'];
        $f = "$dir/samples/{$y['size']}-{$y['engine']}-{$y['impl']}-" . ($y['round'] ?? 1) . '.txt';
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
        $loads[] = $y['load1'] ?? 0;
        if (isset($y['backlog'])) {
            $x['backlog'] = $y['backlog'];
        }
    }
    $x['rounds'] = count($g);
    $x['cpu_us'] = round($cpu / $n, 1);
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
    $x['load1'] = max($loads);
    unset($x['round'], $x['delta'], $x['elapsed_s']);
    $rows[] = $x;
}

$run = is_file("$dir/run.json") ? json_decode(file_get_contents("$dir/run.json"), true) : [];

/** r[size][engine][impl] */
$r = [];
foreach ($rows as $x) {
    $r[$x['size']][$x['engine']][$x['impl']] = $x;
}
ksort($r);
$sizes = array_keys($r);
$engines = [];
$impls = [];
foreach ($rows as $x) {
    $engines[$x['engine']] = true;
    $impls[$x['impl']] = true;
}
$engines = array_keys($engines);
$impls = array_keys($impls);

$writes = fn (array $x) => $x['per_op']['Com_update'] + $x['per_op']['Com_delete'] + $x['per_op']['Com_insert'];
$fmt = fn (float $v) => $v >= 100 ? number_format($v, 0, '.', ',') : number_format($v, 1, '.', ',');

// ---- the table
$head = ['rows', 'engine', 'implementation', 'calls', 'calls/s', 'p50 µs', 'p99 µs', 'p50 of rounds µs', 'client CPU µs/call', 'queries/call', 'rows scanned/call', 'writes/call'];
$table = [];
foreach ($r as $size => $byEngine) {
    foreach ($engines as $engine) {
        foreach ($impls as $impl) {
            $x = $byEngine[$engine][$impl] ?? null;
            if ($x === null) {
                continue;
            }
            $table[] = [
                number_format($size), $engine, $impl, (string) $x['n'], $fmt($x['ops_per_s']), $fmt($x['p50_us']),
                $fmt($x['p99_us']),
                $x['rounds'] > 1 ? $fmt($x['p50_rounds'][0]) . '–' . $fmt($x['p50_rounds'][1]) : '',
                $fmt($x['cpu_us']),
                (string) $x['per_op']['Questions'], $fmt($x['per_op']['Handler_read_rnd_next']),
                (string) $writes($x),
            ];
        }
    }
}
$md = '| ' . implode(' | ', $head) . " |\n|" . str_repeat(' --- |', count($head)) . "\n";
foreach ($table as $t) {
    $md .= '| ' . implode(' | ', $t) . " |\n";
}
$widths = array_map(fn ($i) => max(array_map(fn ($t) => ulen($t[$i]), array_merge([$head], $table))), array_keys($head));
$line = function (array $t) use ($widths): string {
    $s = '';
    foreach ($t as $i => $cell) {
        $pad = $widths[$i] - ulen($cell);
        $s .= ($i <= 2 ? $cell . str_repeat(' ', $pad) : str_repeat(' ', $pad) . $cell) . '  ';
    }
    return rtrim($s) . "\n";
};
echo "\n== results (p50/p99: latency of one call in one long-lived PHP process; per-call counts from SHOW GLOBAL STATUS)\n";
if ($run) {
    echo "   run: {$run['started']}, {$run['nproc']} cores, load at start {$run['load']}, PHP {$run['php']}, {$run['server']}"
        . ($run['own_server'] ? ' (throw-away server)' : ' (given server)') . "\n";
}
echo $line($head);
foreach ($table as $t) {
    echo $line($t);
}
foreach ($rows as $x) {
    if (isset($x['backlog']) && $x['backlog']['rows_deleted'] > 0) {
        $b = $x['backlog'];
        printf("   %s %s %s: before the timed calls, %d lookups deleted the %d expired rows (p50 %s µs, max %s µs); timed calls are the steady state\n",
            number_format($x['size']), $x['engine'], $x['impl'], $b['lookups'], $b['rows_deleted'], $fmt($b['p50_us']), $fmt($b['max_us']));
    }
}

// ---- ratios (of p50 latency)
$ratio = function (int $size, string $engine, string $a, string $b) use ($r): ?float {
    $x = $r[$size][$engine][$a] ?? null;
    $y = $r[$size][$engine][$b] ?? null;
    return ($x && $y && $y['p50_us'] > 0) ? $x['p50_us'] / $y['p50_us'] : null;
};
$pairs = [
    ['ext-unlimited', 'floor-select', 'shim / floor (unlimited: one point SELECT)'],
    ['ext-limited', 'floor-select-update', 'shim / floor (limited: SELECT + UPDATE)'],
    ['ext-native-unlimited', 'floor-select', 'native / floor (unlimited)'],
    ['ext-native-limited', 'floor-select-update', 'native / floor (limited)'],
    ['ext-unknown', 'floor-select', 'unknown token / one point SELECT'],
    ['tiki24-unlimited', 'ext-unlimited', 'Tiki 24 / shim (unlimited)'],
    ['tiki24-limited', 'ext-limited', 'Tiki 24 / shim (limited)'],
    ['tiki24-create', 'ext-create', 'Tiki 24 create / shim create'],
];
$ratioCsv = [];
echo "\n== ratios of p50 latency\n";
foreach ($pairs as [$a, $b, $label]) {
    $cells = [];
    foreach ($sizes as $size) {
        foreach ($engines as $engine) {
            $v = $ratio($size, $engine, $a, $b);
            if ($v !== null) {
                $cells[] = sprintf('%s %s %s×', number_format($size), $engine, $v >= 10 ? number_format($v, 0) : number_format($v, 2));
                $ratioCsv[] = [$a, $b, $size, $engine, round($v, 3)];
            }
        }
    }
    if ($cells) {
        printf("   %-44s %s\n", $label, implode(', ', $cells));
    }
}

// ---- what the extension adds on the client: its process's CPU per call minus the floor's
$cpuPairs = [
    ['ext-unlimited', 'floor-select'], ['ext-native-unlimited', 'floor-select'],
    ['ext-limited', 'floor-select-update'], ['ext-native-limited', 'floor-select-update'],
];
echo "\n== client CPU per call (getrusage of the PHP process): implementation − floor, µs\n";
foreach ($cpuPairs as [$a, $b]) {
    $cells = [];
    foreach ($sizes as $size) {
        foreach ($engines as $engine) {
            $x = $r[$size][$engine][$a] ?? null;
            $y = $r[$size][$engine][$b] ?? null;
            if ($x && $y) {
                $cells[] = sprintf('%s %s %+.1f', number_format($size), $engine, $x['cpu_us'] - $y['cpu_us']);
            }
        }
    }
    if ($cells) {
        printf("   %-44s %s\n", "$a − $b", implode(', ', $cells));
    }
}

// ---- growth from the smallest to the largest table
$lo = min($sizes);
$hi = max($sizes);
$growth = [];
if ($lo !== $hi) {
    echo "\n== growth of p50 from " . number_format($lo) . ' to ' . number_format($hi) . " rows\n";
    foreach ($impls as $impl) {
        $cells = [];
        foreach ($engines as $engine) {
            $a = $r[$lo][$engine][$impl] ?? null;
            $b = $r[$hi][$engine][$impl] ?? null;
            if ($a && $b) {
                $g = $b['p50_us'] / $a['p50_us'];
                $growth[$impl][$engine] = $g;
                $cells[] = sprintf('%s %s×', $engine, $g >= 10 ? number_format($g, 0) : number_format($g, 2));
            }
        }
        if ($cells) {
            printf("   %-22s %s\n", $impl, implode(', ', $cells));
        }
    }
}

// ---- issue 5's goals
$verdicts = [];
$goal = function (string $name, ?bool $met, string $detail) use (&$verdicts): void {
    $verdicts[] = [$name, $met === null ? 'n/a' : ($met ? 'MET' : 'MISSED'), $detail];
};
$all = function (string $a, string $b, float $limit, bool $atMost = true) use ($r, $sizes, $engines, $ratio): array {
    $worst = null;
    $where = '';
    foreach ($sizes as $size) {
        foreach ($engines as $engine) {
            $v = $ratio($size, $engine, $a, $b);
            if ($v !== null && ($worst === null || ($atMost ? $v > $worst : $v < $worst))) {
                $worst = $v;
                $where = number_format($size) . " $engine";
            }
        }
    }
    return $worst === null ? [null, 'not measured'] : [$atMost ? $worst <= $limit : $worst >= $limit, sprintf('worst %.2f× (%s)', $worst, $where)];
};
[$m, $d] = $all('ext-limited', 'floor-select-update', 1.2);
$goal('lookup (limited hits) within 1.2× of the floor at every size', $m, $d);
[$m, $d] = $all('ext-unlimited', 'floor-select', 1.2);
$goal('lookup (unlimited) within 1.2× of one point SELECT', $m, $d);
foreach (['ext-unlimited', 'ext-limited'] as $impl) {
    if ($hi >= 1000000 && $lo <= 1000 && isset($growth[$impl])) {
        $g = max($growth[$impl]);
        $floor = $impl === 'ext-unlimited' ? 'floor-select' : 'floor-select-update';
        $fg = isset($growth[$floor]) ? sprintf('; the floor itself grew %s', implode(', ', array_map(
            fn ($e) => sprintf('%s %.2f×', $e, $growth[$floor][$e]), array_keys($growth[$floor])))) : '';
        $goal("flat: $impl p50 at 1M / 1k rows ≤ 1.3×", $g <= 1.3, sprintf('worst %.2f×%s', $g, $fg));
    } else {
        $goal("flat: $impl p50 at 1M / 1k rows ≤ 1.3×", null, 'needs sizes 1000 and 1000000');
    }
}
$at1m = [];
foreach ([['tiki24-unlimited', 'ext-unlimited'], ['tiki24-limited', 'ext-limited']] as [$a, $b]) {
    foreach ($engines as $engine) {
        $v = $ratio(1000000, $engine, $a, $b);
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
$perOp = function (string $impl, callable $check) use ($rows): array {
    $seen = [];
    $ok = true;
    foreach ($rows as $x) {
        if ($x['impl'] === $impl) {
            [$good, $text] = $check($x['per_op']);
            $ok = $ok && $good;
            $seen[$text] = true;
        }
    }
    return $seen ? [$ok, implode('; ', array_keys($seen))] : [null, 'not measured'];
};
[$m, $d] = $perOp('ext-malformed', fn ($p) => [$p['Questions'] == 0, "{$p['Questions']} statements/call"]);
$goal('malformed token: zero round trips', $m, $d);
[$m, $d] = $perOp('ext-unknown', fn ($p) => [
    $p['Questions'] == 1 && $p['Com_select'] == 1 && $p['Handler_read_rnd_next'] == 0
        && $p['Com_update'] + $p['Com_delete'] + $p['Com_insert'] == 0 && $p['Handler_read_key'] <= 1,
    sprintf('%s statements, %s SELECT, %s index reads, %s rows scanned, %s writes /call', $p['Questions'], $p['Com_select'],
        $p['Handler_read_key'], $p['Handler_read_rnd_next'], $p['Com_update'] + $p['Com_delete'] + $p['Com_insert']),
]);
$goal('well-formed unknown token: one indexed SELECT, no write', $m, $d);
$goal('canonical form of a typical query < 1 µs', null, 'see cargo bench --bench canon');
echo "\n== issue 5 goals\n";
foreach ($verdicts as [$name, $state, $detail]) {
    printf("   %-6s %s%s %s\n", $state, $name, str_repeat(' ', max(0, 62 - ulen($name))), $detail);
}

// ---- files
$csv = fopen("$dir/results.csv", 'w');
$cols = ['size', 'engine', 'impl', 'rounds', 'n', 'ops_per_s', 'p50_us', 'p99_us', 'mean_us', 'min_us', 'max_us', 'cpu_us', 'p50_round_min', 'p50_round_max', 'load1', 'notes'];
fputcsv($csv, array_merge($cols, array_map(fn ($k) => "per_call_$k", array_keys($rows[0]['per_op']))), ',', '"', '');
foreach ($rows as $x) {
    $x['p50_round_min'] = $x['p50_rounds'][0];
    $x['p50_round_max'] = $x['p50_rounds'][1];
    fputcsv($csv, array_merge(array_map(fn ($c) => $x[$c] ?? '', $cols), array_values($x['per_op'])), ',', '"', '');
}
fclose($csv);
$csv = fopen("$dir/ratios.csv", 'w');
fputcsv($csv, ['numerator', 'denominator', 'size', 'engine', 'p50_ratio'], ',', '"', '');
foreach ($ratioCsv as $row) {
    fputcsv($csv, $row, ',', '"', '');
}
fclose($csv);
$md .= "\nGoals:\n\n| goal | verdict | detail |\n| --- | --- | --- |\n";
foreach ($verdicts as [$name, $state, $detail]) {
    $md .= "| $name | $state | $detail |\n";
}
file_put_contents("$dir/results.md", $md);

// ---- the plot: p50 vs table size, log-log, one line per implementation and engine
$dat = '';
$plots = [];
$block = 0;
$colors = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#1f78b4', '#b2df8a', '#fb9a99', '#cab2d6'];
foreach ($impls as $i => $impl) {
    foreach ($engines as $j => $engine) {
        $points = '';
        foreach ($sizes as $size) {
            if (isset($r[$size][$engine][$impl])) {
                $points .= "$size {$r[$size][$engine][$impl]['p50_us']}\n";
            }
        }
        if ($points === '') {
            continue;
        }
        $dat .= "# $impl $engine\n$points\n\n";
        $plots[] = sprintf("'latency.dat' index %d with linespoints lw 2 pt %d dt %d lc rgb '%s' title '%s %s'",
            $block++, 7 + $j, 1 + 2 * $j, $colors[$i % count($colors)], $impl, $engine);
    }
}
file_put_contents("$dir/latency.dat", $dat);
$gp = <<<GP
set terminal pngcairo size 1200,800 font ',10'
set output 'latency.png'
set title 'tiki\_auth\_tokens: p50 latency of one call vs table size'
set logscale xy
set xlabel 'rows in tiki\_auth\_tokens'
set ylabel 'p50 latency (µs)'
set format x '10^{%L}'
set format y '10^{%L}'
set grid
set key outside right
set xrange [500:2000000]
plot \\
GP;
file_put_contents("$dir/latency.gp", $gp . "\n  " . implode(", \\\n  ", $plots) . "\n");
if (trim((string) shell_exec('command -v gnuplot')) !== '') {
    $cmd = 'cd ' . escapeshellarg($dir) . ' && gnuplot latency.gp 2>&1';
    $outp = shell_exec($cmd);
    clearstatcache();
    if (is_file("$dir/latency.png") && filesize("$dir/latency.png") > 0) {
        echo "\nwrote $dir/results.csv, ratios.csv, results.md, latency.png\n";
    } else {
        echo "\ngnuplot failed: $outp\n";
    }
} else {
    echo "\nwrote $dir/results.csv, ratios.csv, results.md (no gnuplot: no latency.png)\n";
}
