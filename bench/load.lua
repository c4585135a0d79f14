-- wrk script for bench/load.sh: rotates through the request paths in the file named by the
-- environment variable TRAWL_LOAD_PATHS (one URL path per line, already percent-encoded), each
-- wrk thread starting at a different offset, and counts non-200 responses.
local paths = {}
local i = 0
local bad = 0
-- AUTH=token in load.sh: every request carries the API token.
local token = os.getenv("TRAWL_LOAD_TOKEN")
local headers = token and { ["Authorization"] = "Bearer " .. token } or nil

init = function(args)
  for line in io.lines(os.getenv("TRAWL_LOAD_PATHS")) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  i = math.random(#paths)
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end

response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
