-- wrk script for tests/bench/web-load.sh: the RFC 8058 one-click POST to
-- /unsubscribe/{id}.{token}, one pre-created subscriber after another.
-- Arguments: the token file (one "{id}.{token}" a line) and the number of threads; thread k
-- takes lines k, k+T, k+2T, … in order (and starts over if it runs out: repeats change nothing
-- and are counted). Every 200 answer names the address it unsubscribed; done() writes those
-- to <token file>.acked and prints one RESULT line for the shell script.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  token_file = args[1]
  local nthreads = tonumber(args[2])
  tokens = {}
  local i = 0
  for line in io.lines(token_file) do
    if i % nthreads == id then tokens[#tokens + 1] = line end
    i = i + 1
  end
  sent, ok, bad = 0, 0, 0
  acked = {}
end

local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function request()
  local token = tokens[(sent % #tokens) + 1]
  sent = sent + 1
  return wrk.format("POST", "/unsubscribe/" .. token, headers, "List-Unsubscribe=One-Click")
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    local email = body:match('<p id="unsubscribed">(.-) will get')
    if email then acked[#acked + 1] = email end
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local s, o, b, per_thread = 0, 0, 0, {}
  local out = assert(io.open(threads[1]:get("token_file") .. ".acked", "w"))
  for _, t in ipairs(threads) do
    s, o, b = s + t:get("sent"), o + t:get("ok"), b + t:get("bad")
    per_thread[#per_thread + 1] = tostring(t:get("sent"))
    for _, email in ipairs(t:get("acked")) do out:write(email, "\n") end
  end
  out:close()
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "non2xx=%d ok=%d sent=%d socket_errors=%d sent_per_thread=%s\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    b, o, s, e.connect + e.read + e.write + e.timeout, table.concat(per_thread, ",")))
end
