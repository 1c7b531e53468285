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
---@field progress? false|'echo'|'notify'  Also show indexing progress yourself (default false:
---                                   leave it to `LspProgress` consumers such as fidget.nvim).
---@field timeout_ms? integer        Timeout of synchronous calls (default 10000).

---@type tacit.Options
M.defaults = {
  cmd = nil,
  init_options = nil,
  settings = nil,
  enable = true,
  view = 'split',
  progress = false,
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
function M.binary()
  if M.options.cmd and M.options.cmd[1] then
    local p = vim.fn.exepath(M.options.cmd[1])
    return p ~= '' and p or nil, 'setup({cmd=...})'
  end
  local env = vim.env.TACIT_BIN
  if env and env ~= '' then
    return is_executable(env) and vim.fn.exepath(env) or nil, '$TACIT_BIN'
  end
  local path = vim.fn.exepath('tacit')
  if path ~= '' then
    return path, 'PATH'
  end
  local target = vim.env.CARGO_TARGET_DIR
  if not target or target == '' then
    target = vim.fs.joinpath(vim.uv.os_homedir() or '~', '.cache', 'tacit', 'target')
  end
  for _, profile in ipairs({ 'release', 'debug' }) do
    local p = vim.fs.joinpath(target, profile, 'tacit')
    if is_executable(p) then
      return p, 'cargo target directory'
    end
  end
  return nil, 'PATH'
end

local progress_group

--- Optional echo/notify of indexing progress, for set-ups without an LspProgress consumer.
local function setup_progress(mode)
  progress_group = vim.api.nvim_create_augroup('tacit.progress', { clear = true })
  if not mode then
    return
  end
  local titles = {}
  vim.api.nvim_create_autocmd('LspProgress', {
    group = progress_group,
    callback = function(ev)
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
      else
        text = ('%s%s%s'):format(
          title,
          value.percentage and (' %d%%'):format(value.percentage) or '',
          value.message and (' — ' .. value.message) or ''
        )
      end
      if mode == 'notify' then
        if value.kind ~= 'report' then
          vim.notify(text, vim.log.levels.INFO)
        end
      else
        vim.api.nvim_echo({ { text } }, false, {})
      end
    end,
  })
end

--- Configures the plugin and (unless `enable = false`) enables the language server.
---@param opts? tacit.Options
function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  local config = {}
  if M.options.cmd then
    config.cmd = M.options.cmd
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
  setup_progress(M.options.progress)
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
    return nil,
      'no tacit language server is running: call require("tacit").setup() (or vim.lsp.enable("tacit")) '
        .. 'and open a file in a git repository; see :checkhealth tacit'
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
}) do
  M[name] = function(opts, callback)
    opts = normalize(opts, 'id')
    local bufnr = opts.bufnr
    opts.bufnr = nil
    return M.exec(command, opts, callback, bufnr)
  end
end

return M
