-- wrk script of bench/editors.sh: each wrk thread is one partner editor with one connection
-- (run with -t N -c N). It saves its own intervention again and again through
-- PUT /api/v1/interventions/{id} with If-Match: the version its last save returned (ETag), as a
-- form does. It counts answers: 2xx, 409 (conflict: it takes the current version and goes on),
-- 5xx, and any body that says "database is locked".
-- Environment: EDITORS_FILE (lines "id token", line n for thread n), BODY_FILE (the record as
-- JSON; "@N@" is replaced by a running number so that every save changes the record), THINK_MS
-- (a pause between an editor's saves; 0 or unset: back to back).

local threads = {}
local next_n = 1
local think = tonumber(os.getenv("THINK_MS") or "0") or 0
if think > 0 then
  function delay() return think end
end

function setup(thread)
  thread:set("n", next_n)
  next_n = next_n + 1
  table.insert(threads, thread)
end

function init(args)
  local i = 0
  for line in io.lines(os.getenv("EDITORS_FILE")) do
    i = i + 1
    if i == n then id, token = line:match("^(%d+) (%S+)") end
  end
  local f = assert(io.open(os.getenv("BODY_FILE")))
  template = f:read("*a")
  f:close()
  version, count, fresh = 1, 0, true
  ok, conflicts, server_errors, other, locked = 0, 0, 0, 0, 0
end

function request()
  count = count + 1
  local body = template:gsub("@N@", tostring(n * 1000000 + count))
  return wrk.format("PUT", "/api/v1/interventions/" .. id, {
    ["Authorization"] = "Bearer " .. token,
    ["If-Match"] = '"' .. version .. '"',
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  local first = fresh
  fresh = false
  if body and body:find("database is locked", 1, true) then locked = locked + 1 end
  if status >= 200 and status < 300 then
    ok = ok + 1
    local tag = headers["ETag"] or headers["etag"] or ""
    version = tonumber(tag:match("%d+")) or version
  elseif status == 409 then
    -- The first save of a run starts from version 1: after an earlier run it is stale (a
    -- resynchronisation, not counted); any later 409 is a real conflict.
    if not first then conflicts = conflicts + 1 end
    version = tonumber((body or ""):match('"version"%s*:%s*(%d+)')) or version
  elseif status >= 500 then
    server_errors = server_errors + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = { ok = 0, conflicts = 0, server_errors = 0, other = 0, locked = 0 }
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
  end
  io.write(string.format(
    "saves: %d in %.1f s (%.0f/s); p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format(
    "answers: %d saved (2xx), %d conflicts (409), %d server errors (5xx), %d other, %d \"database is locked\", %d socket errors\n",
    t.ok, t.conflicts, t.server_errors, t.other, t.locked,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
