-- wrk script for tests/bench/web-load.sh: POST /subscribe with a new address every request.
-- Addresses are bench-<tag>-t<thread>-<n>@example.org (tag = first script argument), so no
-- two requests of a run share one. done() prints one RESULT line for the shell script.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  tag = args[1] or "run"
  sent, ok, bad = 0, 0, 0
end

local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function request()
  sent = sent + 1
  local body = string.format(
    "email=bench-%s-t%d-%d%%40example.org&topics=diffusion%%2C+cat%%3Acs.CL&frequency=weekly",
    tag, id, sent)
  return wrk.format("POST", "/subscribe", headers, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local s, o, b = 0, 0, 0
  for _, t in ipairs(threads) do
    s, o, b = s + t:get("sent"), o + t:get("ok"), b + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "non2xx=%d ok=%d sent=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    b, o, s, e.connect + e.read + e.write + e.timeout))
end
