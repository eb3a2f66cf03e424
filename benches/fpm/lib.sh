# Sourced by scripts/fpm_load.sh: the measurements of the FPM load test. Uses the variables the
# script sets: out (its output directory), here (benches/fpm), and the functions sql (the client
# on its MariaDB) and fpm_workers (scripts/lib/web.sh).

# probe PORT KIND PATH STATUS RESULT-PREFIX: one request with curl; dies with the logs when the
# answer is not STATUS and an X-Token-Result starting with RESULT-PREFIX (a wrong set-up shows
# early and clearly).
probe() {
  local head status result
  head="$(curl -s -g --path-as-is -D - -o /dev/null -H "X-Kind: $2" "http://127.0.0.1:$1$3")"
  status="$(head -1 <<<"$head" | cut -d' ' -f2)"
  result="$(grep -i '^X-Token-Result:' <<<"$head" | cut -d' ' -f2- | tr -d '\r')"
  if [ "$status" != "$4" ] || [[ "$result" != "$5"* ]]; then
    echo "probe $2: $3 answered $status '$result', expected $4 '$5…'" >&2
    tail -5 "$out/fpm/php-error.log" "$out/fpm/php-fpm.log" "$out/nginx/error.log" >&2 2>/dev/null
    die "the set-up does not answer as expected"
  fi
}

# first KIND: the first request of KIND in the mixed list.
first() { awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$out/mixed.tsv"; }

# token_result URL-PATH PORT: "<status>\t<X-Token-Result>" of one request.
token_result() {
  local head
  head="$(curl -s -g --path-as-is -D - -o /dev/null "http://127.0.0.1:$2$1")"
  printf '%s\t%s\n' "$(head -1 <<<"$head" | cut -d' ' -f2)" \
    "$(grep -i '^X-Token-Result:' <<<"$head" | cut -d' ' -f2- | tr -d '\r')"
}

# rss LABEL: appends the RSS of every FPM worker to rss.tsv.
rss() {
  local p
  for p in $(fpm_workers); do
    printf '%s\t%s\t%s\n' "$1" "$p" "$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")"
  done >>"$out/rss.tsv"
}

# quiesce: waits until PHP has finished every request (FPM's access log stops growing).
quiesce() {
  local a b
  a="$(wc -l <"$out/fpm/access.log")"
  while sleep 0.5; b="$(wc -l <"$out/fpm/access.log")"; [ "$a" != "$b" ]; do a="$b"; done
}

# mark PHASE: the access-log line where PHASE starts.
mark() { printf '%s\t%s\n' "$1" "$(wc -l <"$out/fpm/access.log")" >>"$out/phases.tsv"; }

# snapshot NAME: the server's global status counters into status-NAME.tsv.
snapshot() {
  sql -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions','Com_select','Com_insert',
    'Com_update','Com_delete','Com_stmt_execute','Com_stmt_prepare','Handler_read_key',
    'Handler_read_next','Handler_read_rnd_next','Handler_read_first','Handler_read_rnd',
    'Handler_update','Handler_delete','Handler_write','Select_scan','Select_full_join',
    'Connections')" >"$out/status-$1.tsv"
}

# tiki_connections: the server connections of the pool's user `tiki`.
tiki_connections() {
  sql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'tiki'"
}

# conn_sample: one line of connections.tsv (time, tiki's connections, threads, max used).
conn_sample() {
  sql -e "SELECT ROUND(UNIX_TIMESTAMP(NOW(3)), 1),
    (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'tiki'),
    (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED'),
    (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'MAX_USED_CONNECTIONS')"
}

# sampler: until $out/sampler.stop exists, samples the connections every 0.2 s and the
# workers' RSS every 5 s (run in the background during the mixed run).
sampler() {
  local t0=$SECONDS next=0
  while [ ! -f "$out/sampler.stop" ]; do
    conn_sample >>"$out/connections.tsv" || true
    if [ $((SECONDS - t0)) -ge "$next" ]; then
      rss "mixed+$((SECONDS - t0))s:$(wc -l <"$out/fpm/access.log")"; next=$((next + 5))
    fi
    sleep 0.2
  done
}

# run_wrk NAME PORT LIST THREADS CONNECTIONS SECONDS: wrk with mix.lua on LIST; its summary on
# stdout, every number in wrk-NAME.json.
run_wrk() {
  echo "wrk $1: -t$4 -c$5 -d$6s, $(basename "$3")"
  WRK_PATHS="$3" WRK_OUT="$out/wrk-$1.json" wrk -t"$4" -c"$5" -d"$6s" --timeout 10s \
    -s "$here/mix.lua" "http://127.0.0.1:$2" >"$out/wrk-$1.txt" 2>&1 || { cat "$out/wrk-$1.txt" >&2; die "wrk $1 failed"; }
  sed -n '/requests in/,$p' "$out/wrk-$1.txt"
  [ -s "$out/wrk-$1.json" ] || die "wrk $1 wrote no result"
}

# explain_lookup PORT: the lookup SELECT exactly as the store sends it, from the general log of
# one request each for an unknown and a valid token (PORT: one without purge); the general log
# shows the prepared text with its `?`, so EXPLAIN runs it with each token in place of the `?`.
explain_lookup() {
  local unknown valid_url valid stmt t literal
  unknown="$(php -r 'echo bin2hex(random_bytes(16));')"
  valid_url="$(first valid)"
  valid="${valid_url##*TOKEN=}"
  sql -e "SET GLOBAL log_output = 'TABLE'; TRUNCATE TABLE mysql.general_log; SET GLOBAL general_log = 1"
  curl -s -o /dev/null "http://127.0.0.1:$1/tiki-index.php?page=HomePage&TOKEN=$unknown"
  curl -s -o /dev/null -g --path-as-is "http://127.0.0.1:$1$valid_url"
  sql -e "SET GLOBAL general_log = 0"
  sql -e "SELECT DISTINCT REPLACE(REPLACE(CONVERT(argument USING utf8mb4), '\n', ' '), '\t', ' ') FROM mysql.general_log
    WHERE command_type IN ('Execute', 'Query') AND user_host LIKE 'tiki[%' AND argument LIKE 'SELECT%tiki_auth_tokens%'" >"$out/lookup-statements.txt"
  : >"$out/explain.tsv"
  while IFS= read -r stmt; do
    for t in "unknown:$unknown" "valid:$valid"; do
      literal="'${t#*:}'"
      sql tiki -e "EXPLAIN ${stmt%\?}$literal" | sed "s/^/${t%%:*}\t/" >>"$out/explain.tsv"
    done
  done <"$out/lookup-statements.txt"
  echo "lookup statements seen in the general log: $(wc -l <"$out/lookup-statements.txt")"
}

# db_facts PORT: what the database says after the load (db-facts.tsv): the n-hit token's answer
# and hits left, the limited tokens' hits, the row count.
db_facts() {
  local nhit_id limited_ids
  printf 'nhit_after\t%s\n' "$(token_result "$(cut -f2 "$out/nhit.tsv")" "$1")" >"$out/db-facts.tsv"
  nhit_id="$(php -r 'echo json_decode(file_get_contents($argv[1]), true)["nhit"]["tokenId"];' "$out/tokens.json")"
  limited_ids="$(php -r 'echo implode(",", array_column(json_decode(file_get_contents($argv[1]), true)["limited"], "tokenId"));' "$out/tokens.json")"
  printf 'nhit_hits_left\t%s\n' "$(sql tiki -e "SELECT IFNULL((SELECT hits FROM tiki_auth_tokens WHERE tokenId = $nhit_id), 'gone')")" >>"$out/db-facts.tsv"
  sql tiki -e "SELECT tokenId, hits FROM tiki_auth_tokens WHERE tokenId IN ($limited_ids)" |
    sed 's/^/limited_hits\t/' >>"$out/db-facts.tsv"
  printf 'rows\t%s\n' "$(sql tiki -e 'SELECT COUNT(*) FROM tiki_auth_tokens')" >>"$out/db-facts.tsv"
}
