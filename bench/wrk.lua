-- summary.lua: print wrk's results as one JSON line the harness parses.
-- With series = true (set by the harness for time series), every response is
-- counted per second and per backend (the X-Backend header).
series = false
local threads = {}
counts = {}
bytes = {}

function setup(thread)
  table.insert(threads, thread)
end

function track(status, headers, body)
  local b = headers["X-Backend"] or headers["x-backend"] or "-"
  local k = b .. "@" .. os.time()
  counts[k] = (counts[k] or 0) + 1
  bytes[k] = (bytes[k] or 0) + #body
end

function init(args)
  for _, a in ipairs(args) do
    if a == "series" then response = track end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'EPLINK_WRK {"duration_us":%d,"requests":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},"series":[',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
  local agg, aggb = {}, {}
  for _, t in ipairs(threads) do
    local c, b = t:get("counts"), t:get("bytes")
    if c then for k, v in pairs(c) do agg[k] = (agg[k] or 0) + v end end
    if b then for k, v in pairs(b) do aggb[k] = (aggb[k] or 0) + v end end
  end
  local first = true
  for k, v in pairs(agg) do
    local name, sec = k:match("^(.*)@(%d+)$")
    if not first then io.write(",") end
    first = false
    io.write(string.format('{"backend":"%s","unix":%s,"requests":%d,"bytes":%d}', name, sec, v, aggb[k] or 0))
  end
  io.write("]}\n")
end
