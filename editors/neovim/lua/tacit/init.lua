-- tacit for Neovim: set-up and the Lua API.
--
-- Every call goes to the tacit language server through `workspace/executeCommand` with one
-- JSON object argument, and hands back the server's structured result unchanged. Callbacks
-- follow Neovim's convention `callback(err, result)`, where `err` is the JSON-RPC error
-- (`{code=, message=}`, code -32602 for a bad argument) or nil. Without a callback a call is
-- synchronous and returns `result, err`.

local M = {}

---@class tacit.Options
---@field cmd? string[]            Command that starts the server (default: resolved `tacit lsp`).
---@field init_options? table       Server options (`storePath`, `modelPath`, `budgetTokens`, ...).
---@field settings? table           Same, as the `tacit` settings section.
---@field enable? boolean           Call `vim.lsp.enable('tacit')` (default true).
---@field view? 'split'|'vsplit'|'float'|'tab'  Where scratch results open (default 'split').
---@field progress? false|'echo'|'notify'  How indexing progress shows (default 'notify': its
---                                   start and end through vim.notify; false when fidget.nvim or a
---                                   statusline shows `LspProgress`). Without setup(): `vim.g.tacit_progress`.
---@field timeout_ms? integer        Timeout of synchronous calls (default 10000).

---@type tacit.Options
M.defaults = {
  cmd = nil,
  init_options = nil,
  settings = nil,
  enable = true,
  view = 'split',
  progress = 'notify',
  timeout_ms = 10000,
}

---@type tacit.Options
M.options = vim.deepcopy(M.defaults)

local function is_executable(path)
  return path ~= nil and path ~= '' and vim.fn.executable(path) == 1
end

--- The tacit binary: `setup({cmd=...})`, `$TACIT_BIN`, `tacit` on PATH, then a build in a
--- source checkout (`${CARGO_TARGET_DIR:-~/.cache/tacit/target}/{release,debug}/tacit`).
---@return string? path
---@return string where  how it was found (for :checkhealth)
---@return string[] tried  where it looked, in order (for the not-found message)
function M.binary()
  if M.options.cmd and M.options.cmd[1] then
    local p = vim.fn.exepath(M.options.cmd[1])
    return p ~= '' and p or nil, 'setup({cmd=...})', { M.options.cmd[1] .. ' (setup({cmd=...}))' }
  end
  local env = vim.env.TACIT_BIN
  if env and env ~= '' then
    return is_executable(env) and vim.fn.exepath(env) or nil, '$TACIT_BIN', { env .. ' ($TACIT_BIN)' }
  end
  local path = vim.fn.exepath('tacit')
  if path ~= '' then
    return path, 'PATH', {}
  end
  local tried = { '`tacit` on $PATH' }
  local target = vim.env.CARGO_TARGET_DIR
  if not target or target == '' then
    target = vim.fs.joinpath(vim.uv.os_homedir() or '~', '.cache', 'tacit', 'target')
  end
  for _, profile in ipairs({ 'release', 'debug' }) do
    local p = vim.fs.joinpath(target, profile, 'tacit')
    if is_executable(p) then
      return p, 'cargo target directory', {}
    end
    tried[#tried + 1] = p
  end
  return nil, 'PATH', tried
end

--- How to get the binary, for the messages that say it is missing.
M.install_hint = 'install it from a tacit release tarball (made by scripts/package: put bin/tacit on $PATH) '
  .. 'or from a clone of tacit with `cargo install --path server`, or set $TACIT_BIN; then :Tacit restart'

--- Why no server can start: where the binary was looked for and how to get it.
---@return string
function M.not_found_message()
  local _, _, tried = M.binary()
  return ('the tacit binary was not found (looked for %s): %s'):format(table.concat(tried, ', '), M.install_hint)
end

--- The `cmd` of the `tacit` LSP config: the binary found now, else a function that looks
--- again when a server is to start (after an install, `:Tacit restart` finds it) and, if
--- there is still none, fails with `not_found_message()`, which `vim.lsp.start` shows: a
--- `cmd` table naming a missing binary is skipped without a word.
---@return string[]|fun(dispatchers: table, config: table): table
function M.lsp_cmd()
  local bin = M.binary()
  if bin then
    local cmd = M.options.cmd and vim.deepcopy(M.options.cmd) or { bin, 'lsp' }
    cmd[1] = bin
    return cmd
  end
  return function(dispatchers, config)
    local found = M.binary()
    if not found then
      error('tacit: ' .. M.not_found_message(), 0)
    end
    local cmd = M.options.cmd and vim.deepcopy(M.options.cmd) or { found, 'lsp' }
    cmd[1] = found
    return vim.lsp.rpc.start(cmd, dispatchers, { cwd = config.cmd_cwd, env = config.cmd_env, detached = config.detached })
  end
end

-- Servers that ended on purpose (`:Tacit restart`, `client:stop()`) are not reported as exits.
local stopping = {} ---@type table<integer, true>

--- The last abnormal exit of a tacit server: `{code, signal, line, root}` or nil.
M.last_exit = nil

--- Decodes a string as `vim.inspect` writes it (the LSP log's format for stderr chunks): in
--- double quotes, or in single quotes when it holds a double quote.
local function unquote(s)
  local _, inner = s:match('^(["\'])(.*)%1%s*$')
  if not inner then
    return nil
  end
  local escapes = { n = '\n', t = '\t', r = '\r', a = '\a', b = '\b', f = '\f', v = '\v' }
  local out, i = {}, 1
  while i <= #inner do
    local c = inner:sub(i, i)
    if c == '\\' then
      local digits = inner:match('^%d%d?%d?', i + 1)
      if digits then
        out[#out + 1] = string.char(tonumber(digits) % 256)
        i = i + 1 + #digits
      else
        local e = inner:sub(i + 1, i + 1)
        out[#out + 1] = escapes[e] or e
        i = i + 2
      end
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out)
end

--- The last line the server `bin` wrote to stderr, which Neovim keeps in the LSP log.
---@param bin string
---@return string?
function M.last_stderr_line(bin)
  local ok, path = pcall(vim.lsp.log.get_filename)
  local f = ok and io.open(path, 'rb')
  if not f then
    return nil
  end
  local size = f:seek('end') or 0
  f:seek('set', math.max(0, size - 65536))
  local tail = f:read('*a') or ''
  f:close()
  local needle = '\t' .. vim.inspect(bin) .. '\t"stderr"\t'
  local chunk
  for line in tail:gmatch('[^\n]+') do
    local at = line:find(needle, 1, true)
    if at then
      chunk = line:sub(at + #needle)
    end
  end
  local text = chunk and unquote(chunk)
  if not text then
    return nil
  end
  local last
  for l in text:gmatch('[^\r\n]+') do
    if vim.trim(l) ~= '' then
      last = vim.trim(l)
    end
  end
  return last
end

--- `on_exit` of the tacit config: remembers and reports a server that ended by itself.
function M.on_exit(code, signal, client_id)
  if stopping[client_id] then
    stopping[client_id] = nil
    return
  end
  if code == 0 and (signal == 0 or signal == 15) then
    return
  end
  vim.schedule(function()
    local client = vim.lsp.get_client_by_id(client_id)
    local cmd = client and client.config and client.config.cmd
    local bin = type(cmd) == 'table' and cmd[1] or M.binary()
    M.last_exit = {
      code = code,
      signal = signal,
      line = bin and M.last_stderr_line(bin) or nil,
      root = client and client.root_dir or nil,
    }
    vim.notify('tacit: ' .. M.exit_message(), vim.log.levels.ERROR)
  end)
end

--- What `last_exit` says, as one sentence with the way out.
---@return string
function M.exit_message()
  local e = M.last_exit or {}
  local how = (e.signal and e.signal ~= 0) and ('was killed by signal %d'):format(e.signal)
    or ('exited with code %s'):format(tostring(e.code))
  return ('the tacit server%s %s%s: :Tacit restart starts it again (server log: :LspLog)'):format(
    e.root and (' for ' .. e.root) or '',
    how,
    e.line and (' (last log line: ' .. e.line .. ')') or ''
  )
end

--- Why no tacit client serves a call, and what to do.
---@return string
local function why_no_client()
  if not M.binary() then
    return M.not_found_message()
  end
  if M.last_exit then
    return M.exit_message()
  end
  if not (vim.lsp.is_enabled and vim.lsp.is_enabled('tacit')) then
    return 'the tacit language server is not enabled: call require("tacit").setup() or vim.lsp.enable("tacit") (see :help tacit-setup)'
  end
  return 'no tacit language server is running: it starts when you open a file (:Tacit restart starts it now); see :checkhealth tacit'
end

--- Stops every tacit client and starts the server again for the open buffers, looking for
--- the binary again. `callback(client?)` gets the client of the current buffer, if one starts.
---@param callback? fun(client: vim.lsp.Client?, err: string?)
function M.restart(callback)
  callback = callback or function() end
  local clients = vim.lsp.get_clients({ name = 'tacit' })
  for _, c in ipairs(clients) do
    stopping[c.id] = true
    c:stop()
  end
  M.last_exit = nil
  local buf = M.source_buf(0)
  local waited = 0
  local function start()
    -- Enabling again resolves the config again (lsp/tacit.lua looks for the binary anew).
    vim.lsp.enable('tacit')
    local files = 0
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(b) and vim.bo[b].buftype == '' and vim.api.nvim_buf_get_name(b) ~= '' then
        files = files + 1
        pcall(vim.api.nvim_exec_autocmds, 'FileType', { group = 'nvim.lsp.enable', buffer = b, modeline = false })
      end
    end
    if not M.binary() then
      return callback(nil, M.not_found_message())
    elseif files == 0 then
      return callback(nil, 'no file is open: the server starts when you open one')
    end
    -- get_clients() lists a client once it is initialized.
    local started = 0
    local function wait_initialized()
      local c = vim.lsp.get_clients({ name = 'tacit', bufnr = buf })[1] or vim.lsp.get_clients({ name = 'tacit' })[1]
      if c then
        return callback(c)
      elseif started > (M.options.timeout_ms or 10000) then
        return callback(nil, why_no_client())
      end
      started = started + 50
      vim.defer_fn(wait_initialized, 50)
    end
    wait_initialized()
  end
  local function wait_stopped()
    local left = vim.lsp.get_clients({ name = 'tacit' })
    if #left == 0 then
      return start()
    end
    waited = waited + 50
    if waited == 3000 then
      for _, c in ipairs(left) do
        c:stop(true)
      end
    end
    vim.defer_fn(wait_stopped, 50)
  end
  wait_stopped()
end

--- The indexing progress mode in force: `setup({progress=...})`, else `vim.g.tacit_progress`,
--- else 'notify'.
---@return false|'echo'|'notify'
function M.progress_mode()
  if M.configured or vim.g.tacit_progress == nil then
    return M.options.progress
  end
  return vim.g.tacit_progress
end

local titles = {} ---@type table<string, string>
local notice ---@type any  what the last progress vim.notify returned (nvim-notify's record)

--- Shows one `LspProgress` event of a tacit client as `progress_mode()` says. Through
--- vim.notify only the start and the end show (so `:messages` stays short), with the keys
--- notification plugins use to replace one message with the next: `id` (snacks.nvim),
--- `key` (fidget.nvim), `replace` (nvim-notify).
function M.on_progress(ev)
  local mode = M.progress_mode()
  if not mode then
    return
  end
  local client = vim.lsp.get_client_by_id(ev.data.client_id)
  if not client or client.name ~= 'tacit' then
    return
  end
  local token = tostring(ev.data.params.token)
  local value = ev.data.params.value or {}
  if value.title then
    titles[token] = value.title
  end
  local title = titles[token] or 'tacit'
  local text
  if value.kind == 'end' then
    titles[token] = nil
    text = ('%s: done%s'):format(title, value.message and (' — ' .. value.message) or '')
  elseif value.kind == 'begin' then
    text = ('%s %s…'):format(title, client.root_dir or vim.fn.getcwd())
  else
    text = ('%s%s%s'):format(
      title,
      value.percentage and (' %d%%'):format(value.percentage) or '',
      value.message and (' — ' .. value.message) or ''
    )
  end
  if mode == 'notify' then
    if value.kind ~= 'report' then
      local replace = type(notice) == 'table' and notice or nil
      notice = vim.notify(text, vim.log.levels.INFO, { title = 'tacit', id = 'tacit.progress', key = 'tacit.progress', replace = replace })
    end
  else
    vim.api.nvim_echo({ { text } }, false, {})
  end
end

--- Configures the plugin and (unless `enable = false`) enables the language server.
---@param opts? tacit.Options
function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  if (opts or {}).progress == nil and vim.g.tacit_progress ~= nil then
    M.options.progress = vim.g.tacit_progress
  end
  M.configured = true
  local config = {}
  if M.options.cmd then
    -- A command naming a missing binary becomes one that says so when a server starts.
    config.cmd = M.lsp_cmd()
  end
  if M.options.init_options then
    config.init_options = M.options.init_options
  end
  if M.options.settings then
    config.settings = { tacit = M.options.settings }
  end
  if next(config) then
    vim.lsp.config('tacit', config)
  end
  -- A plugin manager that adds this directory to 'runtimepath' after start-up (lazy.nvim
  -- with a sub-directory of the repository) has not sourced plugin/tacit.lua.
  if not vim.g.loaded_tacit then
    vim.cmd.runtime('plugin/tacit.lua')
  end
  if M.options.enable then
    vim.lsp.enable('tacit')
  end
end

local function buf_path(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  return name ~= '' and vim.fs.normalize(name) or nil
end

--- The buffer a call is about: scratch buffers of this plugin remember the buffer they
--- were opened from.
---@param bufnr? integer
---@return integer
function M.source_buf(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local src = vim.b[bufnr].tacit_source_buf
  if src and vim.api.nvim_buf_is_valid(src) then
    return src
  end
  return bufnr
end

--- The tacit client for a buffer: the one attached to it, else the one whose root holds
--- the buffer's file (or the current directory), else any running tacit client.
---@param bufnr? integer
---@return vim.lsp.Client? client
---@return string? err
function M.client(bufnr)
  bufnr = M.source_buf(bufnr)
  local attached = vim.lsp.get_clients({ name = 'tacit', bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  local clients = vim.lsp.get_clients({ name = 'tacit' })
  if #clients == 0 then
    return nil, why_no_client()
  end
  local path = buf_path(bufnr) or vim.fs.normalize(vim.fn.getcwd())
  for _, c in ipairs(clients) do
    local root = c.root_dir and vim.fs.normalize(c.root_dir)
    if root and (path == root or vim.startswith(path, root .. '/')) then
      return c
    end
  end
  return clients[1]
end

--- Drops nil-holes and turns an empty table into a JSON object (not `[]`).
local function object(args)
  if args == nil or next(args) == nil then
    return vim.empty_dict()
  end
  return args
end

local function error_obj(message, code)
  return { code = code or -32603, message = message }
end

--- Runs a tacit command on the server.
---@param command string  e.g. 'tacit.status'
---@param args? table      the command's one JSON object argument
---@param callback? fun(err: table?, result: any)  without it the call is synchronous
---@param bufnr? integer   picks the client (default: current buffer)
---@return any result, table? err   (synchronous form only)
function M.exec(command, args, callback, bufnr)
  local client, why = M.client(bufnr)
  local params = { command = command, arguments = { object(args) } }
  if not callback then
    if not client then
      return nil, error_obj(why)
    end
    local timeout = M.options.timeout_ms or 10000
    if not client.initialized then
      vim.wait(timeout, function()
        return client.initialized or client:is_stopped()
      end, 20)
    end
    local resp, err = client:request_sync('workspace/executeCommand', params, timeout, M.source_buf(bufnr))
    if not resp then
      return nil, error_obj(('%s: %s'):format(command, err or 'no response'))
    end
    return resp.result, resp.err
  end
  if not client then
    vim.schedule(function()
      callback(error_obj(why), nil)
    end)
    return
  end
  local buf = M.source_buf(bufnr)
  local function send()
    local ok = client:request('workspace/executeCommand', params, function(err, result)
      callback(err, result)
    end, buf)
    if not ok then
      callback(error_obj(command .. ': the tacit server is not running'), nil)
    end
  end
  if client.initialized then
    send()
  else
    -- Requests sent before the initialize handshake completes would be refused.
    local waited = 0
    local function poll()
      if client.initialized then
        return send()
      elseif client:is_stopped() or waited > (M.options.timeout_ms or 10000) then
        return callback(error_obj(command .. ': the tacit server did not start'), nil)
      end
      waited = waited + 50
      vim.defer_fn(poll, 50)
    end
    poll()
  end
end

--- The `file://` URI of a buffer's file, if it has one.
---@param bufnr integer
function M.buf_uri(bufnr)
  local path = buf_path(M.source_buf(bufnr))
  return path and vim.uri_from_fname(path) or nil
end

local function normalize(opts, key)
  if type(opts) == 'string' then
    return { [key] = opts }
  end
  return vim.deepcopy(opts or {})
end

--- Assembled context for a query and a buffer's file.
--- `opts`: `query`, `bufnr` (default current; its file is sent as `uri`), `budgetTokens`,
--- `layers`, `limit`. Result: `{pinned, memories, procedures, episodes, markdown,
--- tokensUsed, budgetTokens, scopes, embedder, timing}`.
---@param opts? {query?: string, bufnr?: integer, budgetTokens?: integer, layers?: string[], limit?: integer}|string
---@param callback? fun(err: table?, result: table?)
function M.context(opts, callback)
  opts = normalize(opts, 'query')
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  opts.bufnr = nil
  if opts.query == '' then
    opts.query = nil
  end
  if opts.uri == nil then
    opts.uri = M.buf_uri(bufnr)
  end
  return M.exec('tacit.assembleContext', opts, callback, bufnr)
end

--- Stores a memory. `opts`: `text` (required), `layer`, `key`, `tags`, `importance`,
--- `scope`, `bufnr`. Result: `{entry, merged, superseded, redacted}`.
---@param opts {text: string, layer?: string, key?: string, tags?: string[], importance?: number, scope?: string, bufnr?: integer}|string
---@param callback? fun(err: table?, result: table?)
function M.remember(opts, callback)
  opts = normalize(opts, 'text')
  local bufnr = opts.bufnr
  opts.bufnr = nil
  return M.exec('tacit.remember', opts, callback, bufnr)
end

--- Searches the memory. `opts`: `query` (required), `layers`, `limit`, `includeSuperseded`,
--- `bufnr`. Result: `{entries = {{score, parts, entry}, ...}}`.
---@param opts {query: string, layers?: string[], limit?: integer, includeSuperseded?: boolean, bufnr?: integer}|string
---@param callback? fun(err: table?, result: table?)
function M.recall(opts, callback)
  opts = normalize(opts, 'query')
  local bufnr = opts.bufnr
  opts.bufnr = nil
  return M.exec('tacit.recall', opts, callback, bufnr)
end

-- Thin wrappers for the other commands: `require('tacit').forget({id=...}, cb)` and so on.
for name, command in pairs({
  forget = 'tacit.forget',
  restore = 'tacit.restore',
  update = 'tacit.update',
  pin = 'tacit.pin',
  unpin = 'tacit.unpin',
  list = 'tacit.list',
  get = 'tacit.get',
  export = 'tacit.export',
  import = 'tacit.import',
  reindex = 'tacit.reindex',
  status = 'tacit.status',
  extract = 'tacit.extract',
  write_instructions = 'tacit.writeInstructions',
}) do
  M[name] = function(opts, callback)
    opts = normalize(opts, 'id')
    local bufnr = opts.bufnr
    opts.bufnr = nil
    return M.exec(command, opts, callback, bufnr)
  end
end

return M
