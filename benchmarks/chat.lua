-- POSTs one small non-streaming chat completion per request.
-- Usage: wrk -s chat.lua URL -- <api-key> <model>

function init(args)
  local api_key = args[1] or "any"
  local model = args[2] or "bench/model"
  body = '{"model": "' .. model .. '", "messages": [{"role": "user", "content": "Say hello."}], '
    .. '"max_tokens": 16}'
  headers = {
    ["Authorization"] = "Api-Key " .. api_key,
    ["Content-Type"] = "application/json",
  }
end

function request()
  return wrk.format("POST", "/v1/chat/completions", headers, body)
end

-- One JSON line that the benchmark script reads: requests, errors and latency (µs).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
