-- POSTs the documented create body with a unique external_entity_id per request.
-- Usage: wrk -s create.lua URL -- <api-key> <run-prefix>
-- Each wrk thread has its own Lua state: the thread number and a per-thread counter
-- together keep every id unique within a run; the prefix keeps runs apart.

local thread_count = 0

function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  api_key = args[1] or "sim-manage-acme"
  prefix = args[2] or "bench"
  counter = 0
  headers = {
    ["Authorization"] = "Api-Key " .. api_key,
    ["Content-Type"] = "application/json",
  }
end

local template = '{"metadata": {"name": "Acme prod", "external_entity_id": "%s-%d-%d"}, '
  .. '"models": [{"slug": "your-org/your-model", '
  .. '"rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 1000000}], '
  .. '"usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000}]}], '
  .. '"hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": null}}'

function request()
  counter = counter + 1
  local body = string.format(template, prefix, thread_id, counter)
  return wrk.format("POST", "/v1/gateway/groups", headers, body)
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
