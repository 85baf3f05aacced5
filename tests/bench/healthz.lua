-- healthz.lua - wrk script: GET /healthz (the HTTP ceiling of tests/bench/load.sh); prints
-- the same "wrk-figure NAME VALUE" lines as alloc.lua.
function done(summary, latency, requests)
    io.write(string.format("wrk-figure requests %d\n", summary.requests))
    io.write(string.format("wrk-figure non2xx %d\n", summary.errors.status))
    io.write(string.format("wrk-figure socket_errors %d\n", summary.errors.connect +
        summary.errors.read + summary.errors.write + summary.errors.timeout))
    io.write(string.format("wrk-figure rps %.1f\n",
        (summary.requests - summary.errors.status) / (summary.duration / 1e6)))
    io.write(string.format("wrk-figure p50_ms %.2f\n", latency:percentile(50) / 1000))
    io.write(string.format("wrk-figure p99_ms %.2f\n", latency:percentile(99) / 1000))
    io.write(string.format("wrk-figure max_ms %.2f\n", latency.max / 1000))
end
