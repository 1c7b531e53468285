-- Bad arguments come back as readable errors through vim.notify (JSON-RPC -32602 from the
-- server, usage errors from the plugin), and the server stays attached and serving. A server
-- that dies is reported with how it ended and its last log line, commands say so (not "call
-- setup()"), and `:Tacit restart` brings it back. `:checkhealth tacit` finds a store path
-- below a regular file not writable.

local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'helpers.lua'))

local root = H.fixture('polyglot')
H.setup(root, { init_options = { indexOnStartup = false } })
local tacit = require('tacit')
local client, buf

local function still_serving()
  H.truthy(not client:is_stopped(), 'the client is running')
  H.truthy(vim.lsp.get_clients({ name = 'tacit', bufnr = buf })[1], 'the client is attached')
  local err, s = H.await(tacit.status, {})
  H.eq(nil, err, 'status error')
  H.eq(root, s.workspaces[1].root, 'status still answers')
end

H.test('the client attaches', function()
  client, buf = H.open(root, 'src/main.rs')
end)

H.test('a bad id for :Tacit forget shows the server error via vim.notify; the server stays attached', function()
  local from = #H.notifications
  vim.cmd('Tacit forget no-such-id')
  local note = H.wait_note('^tacit: tacit%.forget', vim.log.levels.ERROR, from)
  H.eq(vim.log.levels.ERROR, note.level, 'level')
  still_serving()
end)

H.test('a bad layer for :Tacit remember shows the server error; the server stays attached', function()
  local from = #H.notifications
  vim.cmd('Tacit remember --layer=bogus some text')
  local note = H.wait_note('bogus', vim.log.levels.ERROR, from)
  H.contains(note.msg, 'tacit.remember', 'message')
  still_serving()
end)

H.test('the Lua API hands back the JSON-RPC error (-32602) to the callback', function()
  local err, r = H.await(tacit.remember, { text = 'x', layer = 'bogus' })
  H.eq(nil, r, 'result')
  H.eq(-32602, err.code, 'code')
  H.contains(err.message, 'tacit.remember', 'message')
  local serr
  r, serr = tacit.exec('tacit.status', { bogus = 1 })
  H.eq(nil, r, 'sync result')
  H.eq(-32602, serr.code, 'sync code of an unknown field')
  still_serving()
end)

H.test('usage errors of :Tacit are reported without a request', function()
  local from = #H.notifications
  vim.cmd('Tacit frobnicate')
  H.wait_note('unknown subcommand `frobnicate`', vim.log.levels.ERROR, from)
  vim.cmd('Tacit recall')
  H.wait_note('usage: :Tacit recall', vim.log.levels.ERROR, from)
  vim.cmd('Tacit forget')
  H.wait_note('usage: :Tacit forget', vim.log.levels.ERROR, from)
  still_serving()
end)

H.test('a server that dies is reported with how it ended and its last log line', function()
  -- An index run makes the server log a line ("indexed ...") to stderr.
  local from_progress = #H.progress
  H.eq(nil, (H.await(tacit.reindex, {})), 'reindex error')
  H.wait_indexed(nil, from_progress)
  H.wait(function()
    return tacit.last_stderr_line(H.binary()) ~= nil
  end, 'a server log line')
  local pid
  for _, child in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
    local proc = vim.api.nvim_get_proc(child)
    if proc and proc.name == 'tacit' then
      pid = child
    end
  end
  H.truthy(pid, 'the tacit server process')
  local from = #H.notifications
  vim.uv.kill(pid, 'sigkill')
  local note = H.wait_note('^tacit: the tacit server for ' .. vim.pesc(root) .. ' was killed by signal 9', vim.log.levels.ERROR, from)
  H.contains(note.msg, ':Tacit restart', 'message')
  -- What the server last wrote to stderr.
  H.truthy(note.msg:find('%(last log line: [^)]*INFO tacit::lsp: indexed ' .. vim.pesc(root)), 'the last log line in: ' .. note.msg)
  H.wait(function()
    return #vim.lsp.get_clients({ name = 'tacit' }) == 0
  end, 'the client to go')
  from = #H.notifications
  vim.cmd('Tacit status')
  local err = H.wait_note('was killed by signal 9', vim.log.levels.ERROR, from)
  H.truthy(not err.msg:find('setup()', 1, true), 'no advice to call setup(): ' .. err.msg)
end)

H.test(':Tacit restart starts the server again', function()
  local from = #H.notifications
  vim.cmd('Tacit restart')
  H.wait_note('^tacit: restarted the server %(client %d+, ' .. vim.pesc(root) .. '%)', vim.log.levels.INFO, from)
  client = vim.lsp.get_clients({ name = 'tacit', bufnr = buf })[1]
  H.truthy(client, 'a client attached to the buffer again')
  still_serving()
  -- A restart is not a crash.
  H.eq(0, #H.notes(vim.log.levels.WARN, from), 'no warnings or errors')
end)

H.test('without a running server, commands say how to start one', function()
  for _, c in ipairs(vim.lsp.get_clients({ name = 'tacit' })) do
    c:stop()
  end
  H.wait(function()
    return #vim.lsp.get_clients({ name = 'tacit' }) == 0
  end, 'the client to stop')
  local from = #H.notifications
  vim.cmd('Tacit status')
  local note = H.wait_note('no tacit language server is running', vim.log.levels.ERROR, from)
  H.contains(note.msg, ':Tacit restart', 'message')
end)

H.test(':checkhealth tacit without a server finds the binary, the model and the store, and warns', function()
  local text = H.health()
  H.contains(text, 'OK tacit 0', 'health report')
  H.contains(text, 'OK all-MiniLM-L6-v2 found at', 'health report')
  H.contains(text, 'OK store ' .. H.store, 'health report')
  H.contains(text, 'WARNING enabled, but no tacit client is running', 'health report')
  H.truthy(not text:find('ERROR', 1, true), 'no ERROR in:\n' .. text)
  vim.cmd('tabclose')
end)

H.test(':checkhealth tacit: a store path below a regular file is not writable', function()
  local file = vim.fs.joinpath(H.tempdir('tacit-file'), 'a-file')
  vim.fn.writefile({ 'not a directory' }, file)
  local store = vim.fs.joinpath(file, 'store')
  vim.env.TACIT_STORE = store
  local text = H.health()
  H.contains(text, ('ERROR store %s is not writable: %s is a file, not a directory'):format(store, file), 'health report')
  H.truthy(not text:find('OK store', 1, true), 'no OK for the store in:\n' .. text)
  vim.env.TACIT_STORE = H.store
  vim.cmd('tabclose')
end)

H.finish()
