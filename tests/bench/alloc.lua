-- alloc.lua - wrk script: PUT /v1/allocations/CLUSTER/NAMESPACE/SERVICE with a unique service
-- name per request ("s" .. thread .. "-" .. counter), body "{}" (SingleStack IPv4 from the
-- catch-all pool). Used by tests/bench/load.sh and by the kill -9 / two-process fault tests.
--
--   wrk ... -s alloc.lua URL -- CLUSTER NAMESPACE PREFIX [TOKEN] [LOGDIR]
--
-- TOKEN (may be "-"): sent as "Authorization: Bearer TOKEN" (admin.token, when auth is on).
-- LOGDIR: every 2xx reply appends "service ip" to LOGDIR/acked.<thread>, flushed at once, so
-- what a killed server had acknowledged is on disk before wrk sees the next event.
-- done() prints machine-readable lines "wrk-figure NAME VALUE" for load.sh.

local threads = {}
local counter = 1

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    cluster = args[1] or "bench"
    namespace = args[2] or "load"
    prefix = args[3] or "s"
    local token = args[4]
    local logdir = args[5]
    wrk.method = "PUT"
    wrk.body = "{}"
    wrk.headers["Content-Type"] = "application/json"
    if token and token ~= "" and token ~= "-" then
        wrk.headers["Authorization"] = "Bearer " .. token
    end
    if logdir and logdir ~= "" then
        acked = io.open(logdir .. "/acked." .. tid, "a")
        acked:setvbuf("line")
    end
    base = "/v1/allocations/" .. cluster .. "/" .. namespace .. "/" .. prefix .. tid .. "-"
end

function request()
    counter = counter + 1
    return wrk.format(nil, base .. counter)
end

if os.getenv("LBIPAM_WRK_LOG") ~= "0" then
    -- Only defined when the replies are needed: a response() callback costs wrk time.
    function response(status, headers, body)
        if acked and status >= 200 and status < 300 then
            local svc = body:match('"service":"([^"]+)"')
            local ip = body:match('"ip":"([^"]+)"')
            acked:write(svc, " ", ip or "-", "\n")
        end
    end
end

function done(summary, latency, requests)
    local ok = summary.requests - summary.errors.status
    io.write(string.format("wrk-figure requests %d\n", summary.requests))
    io.write(string.format("wrk-figure non2xx %d\n", summary.errors.status))
    io.write(string.format("wrk-figure socket_errors %d\n", summary.errors.connect +
        summary.errors.read + summary.errors.write + summary.errors.timeout))
    io.write(string.format("wrk-figure rps %.1f\n", ok / (summary.duration / 1e6)))
    io.write(string.format("wrk-figure p50_ms %.2f\n", latency:percentile(50) / 1000))
    io.write(string.format("wrk-figure p99_ms %.2f\n", latency:percentile(99) / 1000))
    io.write(string.format("wrk-figure max_ms %.2f\n", latency.max / 1000))
end
