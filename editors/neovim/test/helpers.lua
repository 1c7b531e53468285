-- Shared set-up of the headless tests: a copy of the polyglot fixture as a fresh git
-- repository, a store of its own, the real tacit binary, and bounded waits on conditions.
-- Each test file prints `ok`/`not ok` per case and ends with `N passed, N failed`.

local H = {}

local uv = vim.uv
local here = debug.getinfo(1, 'S').source:sub(2)
H.plugin_dir = vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(here, ':p'))))
H.repo_dir = vim.fs.dirname(vim.fs.dirname(H.plugin_dir))

H.passed, H.failed = 0, 0
H.notifications = {} ---@type {msg: string, level: integer}[]
H.progress = {} ---@type {token: any, kind: string, client: string}[]
local temps = {}

function H.log(...)
  io.stdout:write(table.concat(vim.tbl_map(tostring, { ... }), ' ') .. '\n')
  io.stdout:flush()
end

function H.tempdir(prefix)
  local dir = assert(uv.fs_mkdtemp(vim.fs.joinpath(uv.os_tmpdir(), (prefix or 'tacit-nvim') .. '-XXXXXX')))
  temps[#temps + 1] = dir
  return dir
end

--- The tacit binary: $TACIT_BIN, else ${CARGO_TARGET_DIR:-~/.cache/tacit/target}/debug/tacit.
function H.binary()
  local bin = os.getenv('TACIT_BIN')
  if not bin or bin == '' then
    local target = os.getenv('CARGO_TARGET_DIR')
    if not target or target == '' then
      target = vim.fs.joinpath(uv.os_homedir(), '.cache', 'tacit', 'target')
    end
    bin = vim.fs.joinpath(target, 'debug', 'tacit')
  end
  assert(vim.fn.executable(bin) == 1, 'tacit binary not found at ' .. bin .. ' (build it or set TACIT_BIN)')
  return bin
end

local function system(cmd, cwd, extra_env)
  local env = vim.tbl_extend('force', {
    GIT_AUTHOR_NAME = 'Ada',
    GIT_AUTHOR_EMAIL = 'ada@example.com',
    GIT_COMMITTER_NAME = 'Ada',
    GIT_COMMITTER_EMAIL = 'ada@example.com',
  }, extra_env or {})
  local r = vim.system(cmd, { cwd = cwd, env = env, text = true }):wait(60000)
  assert(r.code == 0, table.concat(cmd, ' ') .. ' failed: ' .. (r.stderr or '') .. (r.stdout or ''))
  return r.stdout
end

--- Runs git in `root` (as Ada), with `env` added (e.g. GIT_AUTHOR_DATE).
function H.git(root, args, env)
  return system(vim.list_extend({ 'git' }, args), root, env)
end

--- A copy of tests/fixtures/<name> in a fresh git repository with one commit.
function H.fixture(name)
  local src = vim.fs.joinpath(H.repo_dir, 'tests', 'fixtures', name or 'polyglot')
  local root = vim.fs.joinpath(H.tempdir('tacit-fixture'), vim.fs.basename(name or 'polyglot'))
  system({ 'cp', '-R', src, root })
  system({ 'git', 'init', '-q', '-b', 'main' }, root)
  system({ 'git', 'add', '-A' }, root)
  system({ 'git', 'commit', '-qm', 'feat: initial import' }, root)
  return uv.fs_realpath(root)
end

--- The first fenced code block of language `lang` after the line holding `marker` in the
--- repository's README.md, so that the tests run the README's recipes as written.
function H.readme_block(marker, lang)
  local text = table.concat(vim.fn.readfile(vim.fs.joinpath(H.repo_dir, 'README.md')), '\n')
  local at = assert(text:find(marker, 1, true), 'README.md has no ' .. marker)
  local fence = '```' .. lang .. '\n'
  local from = assert(text:find(fence, at, true), 'no ```' .. lang .. ' block after ' .. marker)
  local to = assert(text:find('\n```', from + #fence, true), 'an unclosed block after ' .. marker)
  return text:sub(from + #fence, to)
end

--- Runs the README's Lua block after `marker`, with the clone path it shows
--- (`~/src/tacit`) replaced by this checkout.
function H.run_readme_lua(marker)
  local code = H.readme_block(marker, 'lua'):gsub('~/src/tacit', H.repo_dir)
  assert(load(code, 'README.md: ' .. marker))()
end

--- PATH without the directories that hold a `tacit`, for cases about a missing binary.
function H.path_without_tacit()
  local dirs = {}
  for _, d in ipairs(vim.split(os.getenv('PATH') or '', ':', { trimempty = true })) do
    if vim.fn.executable(vim.fs.joinpath(d, 'tacit')) == 0 then
      dirs[#dirs + 1] = d
    end
  end
  return table.concat(dirs, ':')
end

--- Waits (bounded) until `cond()` is true; fails with `what` on timeout.
function H.wait(cond, what, timeout_ms)
  local ok = vim.wait(timeout_ms or 30000, cond, 20)
  if not ok then
    error('timed out waiting for ' .. what, 2)
  end
end

--- Records every vim.notify in H.notifications (shown too with TACIT_TEST_VERBOSE=1).
function H.record_notifications()
  local notify = vim.notify
  vim.notify = function(msg, level, o)
    H.notifications[#H.notifications + 1] = { msg = msg, level = level or vim.log.levels.INFO }
    if os.getenv('TACIT_TEST_VERBOSE') then
      notify(msg, level, o)
    end
  end
end

--- Runs `:checkhealth tacit` and returns its report once it is complete (in a new tab).
function H.health()
  vim.cmd('silent checkhealth tacit')
  local hbuf = vim.api.nvim_get_current_buf()
  local text
  H.wait(function()
    text = table.concat(vim.api.nvim_buf_get_lines(hbuf, 0, -1, false), '\n')
    return text:find('language server', 1, true) ~= nil
  end, 'the health report')
  return text
end

--- Loads the plugin from this checkout, with its own store, in `root`, and records
--- notifications and progress. `opts.init_options` go to the server. With `opts.lazy`,
--- the plugin is loaded from the README's lazy.nvim spec as lazy.nvim does it.
function H.setup(root, opts)
  opts = opts or {}
  -- `vim.lsp.enable` also starts a client for the current directory (for the unnamed
  -- buffer): work from the fixture so that one server serves the whole test.
  vim.fn.chdir(root)
  vim.cmd('filetype on')
  if not opts.lazy then
    vim.opt.runtimepath:prepend(H.plugin_dir)
    vim.cmd.runtime('plugin/tacit.lua')
  end
  H.store = H.tempdir('tacit-store')
  vim.env.TACIT_STORE = H.store
  H.record_notifications()
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      local value = ev.data.params.value or {}
      H.progress[#H.progress + 1] = {
        token = ev.data.params.token,
        kind = value.kind,
        client = client and client.name,
        message = value.message,
      }
    end,
  })
  if opts.lazy then
    local spec = assert(load('return ' .. H.readme_block('**lazy.nvim**', 'lua'), 'README.md: lazy.nvim'))()
    -- What lazy.nvim does with the spec after start-up: `dir` on 'runtimepath' (without
    -- sourcing plugin/, which setup() does), then `require(main).setup(opts)`.
    vim.env.TACIT_BIN = H.binary()
    vim.opt.runtimepath:append((spec.dir:gsub('~/src/tacit', H.repo_dir)))
    require(spec.main).setup(spec.opts)
    return spec
  end
  require('tacit').setup({
    cmd = { H.binary(), 'lsp' },
    init_options = opts.init_options,
    view = opts.view,
    progress = opts.progress,
  })
end

--- Opens `file` (relative to `root`) and waits until a tacit client is attached and
--- initialized. Returns the client.
function H.open(root, file)
  vim.cmd.edit(vim.fn.fnameescape(vim.fs.joinpath(root, file)))
  local buf = vim.api.nvim_get_current_buf()
  local client
  H.wait(function()
    client = vim.lsp.get_clients({ name = 'tacit', bufnr = buf })[1]
    return client ~= nil and client.initialized == true
  end, 'the tacit client to attach to ' .. file)
  return client, buf
end

--- Waits for the end of an indexing progress (`$/progress` token tacit/index/<n>) among the
--- events after the `from`th.
function H.wait_indexed(timeout_ms, from)
  H.wait(function()
    for i = (from or 0) + 1, #H.progress do
      local p = H.progress[i]
      if p.client == 'tacit' and p.kind == 'end' and tostring(p.token):match('^tacit/index/') then
        return true
      end
    end
    return false
  end, 'the indexing progress to end', timeout_ms or 240000)
end

--- Calls an async API function and waits for its callback; returns err, result.
function H.await(fn, ...)
  local done, err, result = false, nil, nil
  local args = { ... }
  args[#args + 1] = function(e, r)
    done, err, result = true, e, r
  end
  fn(unpack(args))
  H.wait(function()
    return done
  end, 'a tacit reply')
  return err, result
end

--- The lines of the scratch buffer `tacit://<name>`, once it exists and is non-empty.
function H.scratch(name)
  local buf
  H.wait(function()
    buf = vim.fn.bufnr('^tacit://' .. name .. '$')
    return buf ~= -1 and vim.api.nvim_buf_line_count(buf) > 1
  end, 'the scratch buffer tacit://' .. name)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false), buf
end

--- Closes every tacit scratch window and wipes the buffers, so the next wait sees new ones.
function H.close_scratch()
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b):match('^tacit://') then
      vim.api.nvim_buf_delete(b, { force = true })
    end
  end
end

--- The notifications (after index `from`) at `level` or above.
function H.notes(level, from)
  local out = {}
  for i = (from or 0) + 1, #H.notifications do
    local n = H.notifications[i]
    if n.level >= (level or 0) then
      out[#out + 1] = n
    end
  end
  return out
end

function H.wait_note(pattern, level, from)
  local found
  local ok = vim.wait(30000, function()
    for _, n in ipairs(H.notes(level, from)) do
      if n.msg:find(pattern) then
        found = n
        return true
      end
    end
    return false
  end, 20)
  if not ok then
    local seen = vim.tbl_map(function(n)
      return ('[%d] %s'):format(n.level, n.msg)
    end, H.notes(0, from))
    error(('timed out waiting for a notification matching %q; got:\n%s'):format(pattern, table.concat(seen, '\n')), 2)
  end
  return found
end

function H.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(('%s: expected %s, got %s'):format(what or 'value', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function H.truthy(v, what)
  if not v then
    error((what or 'condition') .. ' failed', 2)
  end
  return v
end

function H.contains(haystack, needle, what)
  if type(haystack) == 'table' then
    haystack = table.concat(haystack, '\n')
  end
  if not haystack:find(needle, 1, true) then
    error(('%s: %q not found in:\n%s'):format(what or 'text', needle, haystack), 2)
  end
end

--- Runs one case; an error marks it failed and the run goes on.
function H.test(name, fn)
  local start = uv.hrtime()
  local ok, err = xpcall(fn, debug.traceback)
  local ms = math.floor((uv.hrtime() - start) / 1e6)
  if ok then
    H.passed = H.passed + 1
    H.log(('ok - %s (%d ms)'):format(name, ms))
  else
    H.failed = H.failed + 1
    H.log(('not ok - %s (%d ms)'):format(name, ms))
    for line in tostring(err):gmatch('[^\n]+') do
      H.log('#   ' .. line)
    end
  end
end

--- Stops the servers, removes the temporary directories, prints the tally and exits.
function H.finish()
  for _, c in ipairs(vim.lsp.get_clients()) do
    c:stop()
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  for _, c in ipairs(vim.lsp.get_clients()) do
    c:stop(true)
  end
  vim.wait(2000, function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  for _, dir in ipairs(temps) do
    vim.fn.delete(dir, 'rf')
  end
  H.log(('%d passed, %d failed'):format(H.passed, H.failed))
  os.exit(H.failed == 0 and 0 or 1)
end

return H
