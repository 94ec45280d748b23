-- wrk.lua: print wrk's results as one JSON line the harness parses.
-- Given the argument "series", every response is also counted per backend
-- (the X-Backend header) and per tick of 1/TICKS s of wall-clock time.
local threads = {}
TICKS = 5

-- tick is the wall clock in 1/TICKS s. wrk is built on LuaJIT, whose ffi
-- reaches gettimeofday; plain Lua only has whole seconds.
local tick
local ok, ffi = pcall(require, "ffi")
if ok then
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_usec; } eplink_timeval;
    int gettimeofday(eplink_timeval *tv, void *tz);
  ]]
  local tv = ffi.new("eplink_timeval")
  tick = function()
    ffi.C.gettimeofday(tv, nil)
    return tonumber(tv.tv_sec) * TICKS + math.floor(tonumber(tv.tv_usec) * TICKS / 1000000)
  end
else
  TICKS = 1
  tick = function() return os.time() end
end
counts = {}
bytes = {}

function setup(thread)
  table.insert(threads, thread)
end

function track(status, headers, body)
  local b = headers["X-Backend"] or headers["x-backend"] or "-"
  local k = b .. "@" .. tick()
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
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},"ticks_per_second":%d,"series":[',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), TICKS))
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
    io.write(string.format('{"backend":"%s","tick":%s,"requests":%d,"bytes":%d}', name, sec, v, aggb[k] or 0))
  end
  io.write("]}\n")
end
