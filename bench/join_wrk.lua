-- wrk script for bench/join_wrk.py. Arguments (after `--`): mode, pairs file, wrk thread count.
--   healthz: GET /healthz
--   join:    POST /api/groups/<share_code>/join as <token>, walking the pairs file (one "token share_code"
--            a line), each wrk thread taking every n-th line, so every request is a fresh user's first join of
--            a group with room. Past the end a thread starts over (those answer 409: the row is flagged).
-- Counts answers by status per thread; done() prints one JSON line starting with "WRK_RESULT " for the script.

local threads = {}
local next_id = 1

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   mode = args[1]
   statuses = {}
   wrapped = 0
   tickets = {}
   cursor = 0
   if mode == "join" then
      local every = tonumber(args[3])
      local i = 0
      for line in io.lines(args[2]) do
         if i % every == id - 1 then
            local token, code = line:match("^(%S+)%s+(%S+)$")
            table.insert(tickets, {token, code})
         end
         i = i + 1
      end
   end
end

function request()
   if mode ~= "join" then
      return wrk.format("GET", "/healthz")
   end
   cursor = cursor + 1
   if cursor > #tickets then
      cursor = 1
      wrapped = wrapped + 1
   end
   local t = tickets[cursor]
   return wrk.format("POST", "/api/groups/" .. t[2] .. "/join", {["Authorization"] = "Bearer " .. t[1]})
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts, wraps = {}, 0
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + n
      end
      wraps = wraps + thread:get("wrapped")
   end
   local parts = {}
   for status, n in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
      '"statuses": {%s}, "wrapped": %d, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
      table.concat(parts, ", "), wraps, e.connect, e.read, e.write, e.timeout))
end
