-- The realistic rows of the benchmarks (benches/e2e/fill.php, scripts/fpm_load.sh): one
-- INSERT ... SELECT over the numbers n = 0 .. {rows}-1 that the query {numbers} yields (column n).
-- Row mix, by c = n % 100: 0..2 expired by time (~3 %), 3..4 used up (hits 0, ~2 %), 50 unlimited
-- benchmark tokens, 51 tokens with 100,000,000 hits, otherwise live with 1..10 hits or unlimited;
-- five entries with their params; MD5 tokens computed in the same statement as Tiki 24 does.
-- Every column sits in a derived table first, so that the token is computed from the very values
-- stored: the table is then as compact as Tiki's own (no later UPDATE of NULL tokens).
INSERT INTO tiki_auth_tokens
  (tokenId, creation, timeout, hits, maxhits, token, entry, email, parameters, `groups`, createUser, userPrefix)
SELECT tokenId, creation, timeout, hits, maxhits,
  MD5(CONCAT(tokenId, creation, timeout, entry, parameters, `groups`)),
  entry, email, parameters, `groups`, createUser, userPrefix
FROM (SELECT n + 1 AS tokenId,
  CASE WHEN n % 100 < 3 THEN NOW() - INTERVAL (8 * 86400 + n % 86400) SECOND
       WHEN n % 100 IN (50, 51) THEN NOW() - INTERVAL (n % 3600) SECOND
       ELSE NOW() - INTERVAL ((n * 7919) % (6 * 86400)) SECOND END AS creation,
  CASE WHEN n % 100 < 5 OR n % 100 IN (50, 51) THEN 604800
       WHEN n % 7 = 0 THEN -1 ELSE 604800 END AS timeout,
  CASE WHEN n % 100 IN (3, 4) THEN 0
       WHEN n % 100 = 50 THEN -1
       WHEN n % 100 = 51 THEN 100000000
       WHEN n % 6 = 0 THEN -1 ELSE 1 + (n * 31) % 10 END AS hits,
  CASE WHEN n % 100 = 50 THEN -1
       WHEN n % 100 = 51 THEN 100000000
       WHEN n % 6 = 0 THEN -1 ELSE 1 + (n * 31) % 10 END AS maxhits,
  ELT(1 + n % 5, '/tiki-index.php', '/tiki-download_file.php', '/tiki-ajax_services.php',
                 '/tiki-view_tracker_item.php', '/tiki-print.php') AS entry,
  CONCAT('user', n % 5000, '@example.org') AS email,
  CASE n % 5
    WHEN 0 THEN CONCAT('{"page":"Meeting notes ', n, '"}')
    WHEN 1 THEN IF(n % 2 = 0, CONCAT('{"fileId":', n, '}'), CONCAT('{"fileId":"', n, '"}'))
    WHEN 2 THEN CONCAT('{"controller":"tracker","action":"export_items","trackerId":"', 1 + n % 40, '"}')
    WHEN 3 THEN CONCAT('{"itemId":"', n, '","trackerId":"', 1 + n % 40, '"}')
    ELSE CONCAT('{"page":"Project ', n % 900, '","display":"pdf"}') END AS parameters,
  ELT(1 + n % 4, '["Registered"]', '["Admins","Registered"]', '["Editors"]', '["Registered","Partners"]') AS `groups`,
  IF(n % 100 = 97, 'y', 'n') AS createUser,
  '_token' AS userPrefix
FROM ({numbers}) numbers
WHERE n < {rows}) r
