-- wrk script: each request carries the next Authorization header from AUTH_FILE (one a
-- line), so verifications spread over many tokens instead of one hot row.
local headers = {}
for line in io.lines(os.getenv("AUTH_FILE")) do headers[#headers + 1] = line end
local next_index = 0

request = function()
    next_index = next_index % #headers + 1
    -- wrk.format only adds Host when it is given no headers at all
    return wrk.format("GET", "/repo.git/info/refs",
                      { ["Host"] = wrk.headers["Host"], ["Authorization"] = headers[next_index] })
end
