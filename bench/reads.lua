-- wrk script of bench/editors.sh: anonymous reads, in turn, of the overview page, a line of
-- effort page, the public interventions list and the interventions and report API; counts 5xx.
-- Run with --timeout 30s: a read slower than wrk's default 2 s would otherwise be a socket
-- error, left out of the percentiles.
-- READ_PATHS (space-separated) replaces the list, to find which page is slow.
local paths = {
  "/", "/loe/LOE7", "/interventions", "/api/v1/interventions", "/api/v1/report?by=line_of_effort,country",
}
if os.getenv("READ_PATHS") and os.getenv("READ_PATHS") ~= "" then
  paths = {}
  for p in os.getenv("READ_PATHS"):gmatch("%S+") do table.insert(paths, p) end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) i, server_errors = 0, 0 end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end
function done(summary, latency, requests)
  local errors = 0
  for _, th in ipairs(threads) do errors = errors + (th:get("server_errors") or 0) end
  io.write(string.format(
    "reads: %d in %.1f s (%.0f/s); p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %d server errors (5xx), %d socket errors\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
