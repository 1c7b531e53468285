-- `:checkhealth tacit`: the binary and its version, the embedding model (or the lexical
-- fallback), the store's directory, and the language server's clients.

local M = {}

local health = vim.health

local MODEL_FILES = { 'model.safetensors', 'tokenizer.json', 'config.json' }

local function run(cmd, timeout)
  local ok, obj = pcall(function()
    return vim.system(cmd, { text = true }):wait(timeout or 5000)
  end)
  if not ok then
    return nil, tostring(obj)
  end
  if obj.code ~= 0 then
    return nil, vim.trim((obj.stderr or '') .. (obj.stdout or ''))
  end
  return vim.trim(obj.stdout or '')
end

local function check_binary(tacit)
  health.start('tacit: binary')
  local config = vim.lsp.config.tacit
  local cmd = config and config.cmd
  local bin, where
  if type(cmd) == 'table' and cmd[1] then
    bin = vim.fn.exepath(cmd[1])
    where = 'vim.lsp.config.tacit.cmd'
    if bin == '' then
      bin = nil
    end
  end
  -- A function (the plugin's own when no binary was found at start-up) looks it up as below.
  if not bin and (type(cmd) ~= 'table') then
    bin, where = tacit.binary()
  end
  if not bin then
    health.error(
      type(cmd) == 'table' and ('tacit binary not found: vim.lsp.config.tacit.cmd names %s'):format(cmd[1])
        or tacit.not_found_message(),
      {
        'A tacit release tarball (made by scripts/package) holds bin/tacit: put it on $PATH',
        'From a clone of tacit: `cargo install --path server` (installs ~/.cargo/bin/tacit)',
        'Or set $TACIT_BIN, or require("tacit").setup({ cmd = { "/path/to/tacit", "lsp" } })',
      }
    )
    return nil
  end
  local version, err = run({ bin, '--version' })
  if not version then
    health.error(('`%s --version` failed: %s'):format(bin, err or '?'))
    return nil
  end
  health.ok(('%s at %s (found via %s)'):format(version, bin, where))
  return bin
end

--- The status of a running client, if any.
local function server_status()
  local client = vim.lsp.get_clients({ name = 'tacit' })[1]
  if not client then
    return nil
  end
  local result, err = require('tacit').exec('tacit.status', {}, nil, nil)
  if err then
    health.warn('tacit.status failed: ' .. (err.message or vim.inspect(err)))
    return nil
  end
  return result
end

local function check_model(bin, status)
  health.start('tacit: embedding model')
  if status and status.embedder then
    local e = status.embedder
    if e.fallback then
      health.warn(('the server ranks with the lexical fallback embedder: %s'):format(e.fallbackReason or '?'), {
        'Install all-MiniLM-L6-v2: `tacit model fetch` (online) or scripts/fetch-model in a tacit checkout',
        'or point `modelPath` / $TACIT_MODEL_DIR at a directory holding it',
      })
    else
      health.ok(('%s%s (reported by the running server)'):format(e.id or 'model', e.modelDir and (' at ' .. e.modelDir) or ''))
    end
    return
  end
  if not bin then
    return health.warn('cannot look for the model without the binary')
  end
  local out, err = run({ bin, 'model', 'path' })
  if not out then
    return health.warn('`tacit model path` failed: ' .. (err or '?'))
  end
  for _, dir in ipairs(vim.split(out, '\n', { trimempty = true })) do
    local complete = true
    for _, f in ipairs(MODEL_FILES) do
      if not vim.uv.fs_stat(vim.fs.joinpath(dir, f)) then
        complete = false
      end
    end
    if complete then
      return health.ok('all-MiniLM-L6-v2 found at ' .. dir)
    end
  end
  health.warn('all-MiniLM-L6-v2 not found: tacit will use the lexical fallback (matches words, not meaning)', {
    'Looked in: ' .. out:gsub('\n', ', '),
    'Install it with `tacit model fetch` (online) or scripts/fetch-model in a tacit checkout',
  })
end

local function default_store()
  local config = vim.lsp.config.tacit or {}
  local opt = config.init_options and config.init_options.storePath
  if opt and opt ~= '' then
    return opt, 'init_options.storePath'
  end
  if vim.env.TACIT_STORE and vim.env.TACIT_STORE ~= '' then
    return vim.env.TACIT_STORE, '$TACIT_STORE'
  end
  local data = vim.env.XDG_DATA_HOME
  if not data or data == '' then
    data = vim.fs.joinpath(vim.uv.os_homedir() or '~', '.local', 'share')
  end
  return vim.fs.joinpath(data, 'tacit'), 'default'
end

local function check_store(status)
  health.start('tacit: store')
  local store, where
  if status and status.store then
    store, where = status.store, 'reported by the running server'
  else
    store, where = default_store()
  end
  if store:match('^%a[%w+.-]*://') and not store:match('^file://') then
    return health.info(('object store %s (%s): not checked from Neovim'):format(store, where))
  end
  local path = store:gsub('^file://', '')
  local stat = vim.uv.fs_stat(path)
  if stat then
    if stat.type ~= 'directory' then
      return health.error(('store %s is not a directory'):format(path))
    end
    if vim.uv.fs_access(path, 'W') then
      return health.ok(('store %s is writable (%s)'):format(path, where))
    end
    return health.error(('store %s is not writable (%s)'):format(path, where), { 'Fix its permissions or set storePath' })
  end
  -- Not created yet: the nearest existing parent must be writable.
  local parent = vim.fs.dirname(path)
  while parent and not vim.uv.fs_stat(parent) do
    local up = vim.fs.dirname(parent)
    if up == parent then
      break
    end
    parent = up
  end
  local parent_stat = parent and vim.uv.fs_stat(parent)
  if parent_stat and parent_stat.type ~= 'directory' then
    -- Writable as a file, but nothing can be created under it.
    health.error(
      ('store %s is not writable: %s is a %s, not a directory (%s)'):format(path, parent, parent_stat.type, where),
      { 'Set storePath (or $TACIT_STORE) to a directory' }
    )
  elseif parent_stat and vim.uv.fs_access(parent, 'W') then
    health.ok(('store %s will be created (%s; %s is writable)'):format(path, where, parent))
  else
    health.error(('store %s is not writable: %s is not writable (%s)'):format(path, parent or '?', where))
  end
end

local function check_clients(status)
  health.start('tacit: language server')
  local clients = vim.lsp.get_clients({ name = 'tacit' })
  if #clients == 0 then
    local enabled = vim.lsp.is_enabled and vim.lsp.is_enabled('tacit')
    return health.warn(
      enabled and 'enabled, but no tacit client is running: open a file in a git repository'
        or 'not enabled and not running',
      { 'Call require("tacit").setup() or vim.lsp.enable("tacit") (see :help tacit-setup)' }
    )
  end
  for _, c in ipairs(clients) do
    local bufs = vim.tbl_keys(c.attached_buffers or {})
    table.sort(bufs)
    if c:is_stopped() then
      health.error(('client %d has stopped'):format(c.id), { 'See :LspLog, then :lsp restart or reopen the buffer' })
    elseif #bufs == 0 then
      -- `vim.lsp.enable` also starts a client for the directory Neovim was opened in.
      health.ok(('client %d running for root %s (no file buffer attached yet)'):format(c.id, c.root_dir or '-'))
    else
      health.ok(
        ('client %d attached to %d buffer(s) (%s), root %s'):format(c.id, #bufs, table.concat(bufs, ', '), c.root_dir or '-')
      )
    end
  end
  if status then
    local parts = {}
    for _, w in ipairs(status.workspaces or {}) do
      parts[#parts + 1] = ('%s (%s)'):format(w.root, w.scope)
    end
    health.info(('tacit %s; workspaces: %s%s'):format(
      status.version or '?',
      #parts > 0 and table.concat(parts, ', ') or 'none',
      status.indexing and '; indexing now' or ''
    ))
  end
end

function M.check()
  local tacit = require('tacit')
  health.start('tacit: Neovim')
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('tacit needs Neovim 0.11 or newer')
  end
  local bin = check_binary(tacit)
  local status = server_status()
  check_model(bin, status)
  check_store(status)
  check_clients(status)
end

return M
