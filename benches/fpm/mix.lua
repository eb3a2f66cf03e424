-- wrk script of the FPM load test (scripts/fpm_load.sh).
--
-- Environment:
--   WRK_PATHS  a request list written by benches/fpm/mint.php: "<kind>\t<path?query>" per line;
--              every request picks a line at random (a kind's weight = its number of lines);
--              {hex32} / {hex64} in a path become fresh random lower-case hex on every request
--   WRK_OUT    where done() writes its JSON result
--
-- Every request carries "X-Kind: <kind>"; the test's nginx echoes it back in the response, so
-- response() can count (kind, status, X-Token-Result) without knowing which request of which
-- connection it answers. done() writes requests, duration, wrk's error counters, latency
-- percentiles (microseconds) and those counts to WRK_OUT, and prints a short summary.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local kinds, paths, prepared = {}, {}, {}
counts = {} -- global: done() reads it with thread:get
local hexdigits = "0123456789abcdef"

local function hex(n)
  local t = {}
  for i = 1, n do
    local d = math.random(16)
    t[i] = hexdigits:sub(d, d)
  end
  return table.concat(t)
end

function init(args)
  local file = os.getenv("WRK_PATHS")
  local f = assert(io.open(file, "r"), "WRK_PATHS: cannot open " .. tostring(file))
  for line in f:lines() do
    local kind, path = line:match("^([%w_-]+)\t(.+)$")
    if kind then
      kinds[#kinds + 1] = kind
      paths[#paths + 1] = path
    end
  end
  f:close()
  assert(#paths > 0, "WRK_PATHS: no requests in " .. file)
  for i, p in ipairs(paths) do
    if not p:find("{hex", 1, true) then
      prepared[i] = wrk.format("GET", p, { ["X-Kind"] = kinds[i] })
    end
  end
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  counts = {}
end

function request()
  local i = math.random(#paths)
  local r = prepared[i]
  if r then
    return r
  end
  local p = paths[i]:gsub("{hex64}", function() return hex(64) end)
  p = p:gsub("{hex32}", function() return hex(32) end)
  return wrk.format("GET", p, { ["X-Kind"] = kinds[i] })
end

function response(status, headers, body)
  local key = (headers["X-Kind"] or "?") .. "|" .. status .. "|" .. (headers["X-Token-Result"] or "")
  counts[key] = (counts[key] or 0) + 1
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts") or {}
    for k, v in pairs(c) do
      all[k] = (all[k] or 0) + v
    end
  end
  local keys = {}
  for k in pairs(all) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = json_string(k) .. ":" .. all[k]
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  local json = string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f,"stdev":%.1f},' ..
    '"counts":{%s}}\n',
    summary.requests, secs, summary.requests / secs, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, latency.stdev,
    table.concat(parts, ","))
  local out = os.getenv("WRK_OUT")
  if out then
    local f = assert(io.open(out, "w"))
    f:write(json)
    f:close()
  end
  io.write(string.format("  %d requests in %.1f s = %.0f req/s; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; socket errors %d\n",
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout))
  for _, k in ipairs(keys) do
    io.write(string.format("    %-50s %d\n", k, all[k]))
  end
end
