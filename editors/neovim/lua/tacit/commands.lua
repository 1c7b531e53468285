-- The `:Tacit` command: subcommands, their completion, and the scratch buffers that show
-- results. Loaded on first use of `:Tacit` (plugin/tacit.lua only registers the command).

local tacit = require('tacit')

local M = {}

local function notify(msg, level)
  vim.notify('tacit: ' .. msg, level or vim.log.levels.INFO)
end

local function notify_err(err)
  local msg = type(err) == 'table' and (err.message or vim.inspect(err)) or tostring(err)
  notify(msg, vim.log.levels.ERROR)
end

--- Calls `fn(result)` on success; errors go to vim.notify.
local function on_ok(fn)
  return function(err, result)
    if err then
      return notify_err(err)
    end
    local ok, e = pcall(fn, result)
    if not ok then
      notify_err(e)
    end
  end
end

-- Scratch buffers ------------------------------------------------------------------------

local function open_window(buf, height)
  local view = tacit.options.view or 'split'
  if view == 'float' then
    local width = math.min(100, math.floor(vim.o.columns * 0.8))
    local h = math.max(3, math.min(height, math.floor(vim.o.lines * 0.8)))
    return vim.api.nvim_open_win(buf, true, {
      relative = 'editor',
      width = width,
      height = h,
      row = math.floor((vim.o.lines - h) / 2) - 1,
      col = math.floor((vim.o.columns - width) / 2),
      border = 'rounded',
      style = 'minimal',
    })
  elseif view == 'vsplit' then
    vim.cmd('botright vsplit')
  elseif view == 'tab' then
    vim.cmd('tab split')
  else
    vim.cmd(('botright %dsplit'):format(math.max(5, math.min(height, 20))))
  end
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, buf)
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  return win
end

--- Shows `lines` in the scratch buffer `tacit://<name>` (reused if it exists).
---@param name string
---@param lines string[]
---@param opts? {filetype?: string, source?: integer}
---@return integer bufnr
function M.show(name, lines, opts)
  opts = opts or {}
  local bufname = 'tacit://' .. name
  local buf = vim.fn.bufnr('^' .. vim.fn.escape(bufname, '\\/.*$^~[]') .. '$')
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, bufname)
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].swapfile = false
    vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, nowait = true, desc = 'Close' })
  end
  if opts.source then
    vim.b[buf].tacit_source_buf = opts.source
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  vim.bo[buf].filetype = opts.filetype or 'markdown'
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    open_window(buf, #lines + 1)
  else
    vim.api.nvim_set_current_win(win)
  end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  return buf
end

local function split_lines(text)
  return vim.split(text or '', '\n', { plain = true })
end

local function one_line(text, max)
  text = (text or ''):gsub('%s+', ' ')
  if max and #text > max then
    text = text:sub(1, max - 1) .. '…'
  end
  return text
end

-- Argument parsing -----------------------------------------------------------------------

--- Splits leading `--name=value` flags from the rest of the arguments.
--- `--tag=a --tag=b` gives a list; `--layer=memory,procedure` too, for list-valued flags.
local function parse_flags(fargs, lists)
  local flags, rest = {}, {}
  local i = 1
  while i <= #fargs do
    local name, eq, value = fargs[i]:match('^%-%-([%w_-]+)(=?)(.*)$')
    if not name then
      break
    end
    if eq == '' then
      flags[name] = true
    elseif lists[name] then
      flags[name] = flags[name] or {}
      vim.list_extend(flags[name], vim.split(value, ',', { trimempty = true }))
    else
      flags[name] = value
    end
    i = i + 1
  end
  for j = i, #fargs do
    rest[#rest + 1] = fargs[j]
  end
  return flags, table.concat(rest, ' ')
end

--- The text of the range a command was given: a charwise or blockwise visual selection
--- when the range is the last selection, else whole lines.
local function range_text(cmd)
  local buf = vim.api.nvim_get_current_buf()
  local vs, ve = vim.fn.getpos("'<"), vim.fn.getpos("'>")
  local mode = vim.fn.visualmode()
  if vs[2] == cmd.line1 and ve[2] == cmd.line2 and (mode == 'v' or mode == '\22') then
    local ok, region = pcall(vim.fn.getregion, vs, ve, { type = mode })
    if ok then
      return table.concat(region, '\n')
    end
  end
  return table.concat(vim.api.nvim_buf_get_lines(buf, cmd.line1 - 1, cmd.line2, false), '\n')
end

-- Rendering ------------------------------------------------------------------------------

local function entry_label(e)
  local parts = { ('[%s]'):format(e.layer or '?') }
  if e.status and e.status ~= 'active' then
    parts[#parts + 1] = ('(%s)'):format(e.status)
  end
  parts[#parts + 1] = one_line(e.text, 100)
  if e.key then
    parts[#parts + 1] = ('{%s}'):format(e.key)
  end
  return table.concat(parts, ' ')
end

local function fmt_time(ms)
  return ms and os.date('%Y-%m-%d %H:%M', math.floor(ms / 1000)) or '?'
end

--- Absolute path of a `file:line` example, against the client's root.
local function example_path(example, root)
  local file, line = example:match('^(.-):(%d+)$')
  file = file or example
  if root and not vim.startswith(file, '/') then
    file = vim.fs.joinpath(root, file)
  end
  return line and (file .. ':' .. line) or file
end

local function entry_lines(e, root)
  local lines = {
    '# ' .. one_line(e.text, 200),
    '',
  }
  for _, l in ipairs(split_lines(e.text)) do
    lines[#lines + 1] = l
  end
  vim.list_extend(lines, {
    '',
    ('- id: `%s`'):format(e.id),
    ('- layer: %s, status: %s%s'):format(
      e.layer,
      e.status,
      e.supersededBy and (' (superseded by `' .. e.supersededBy .. '`)') or ''
    ),
    ('- scope: %s, source: %s'):format(e.scope or '?', e.source or '?'),
    ('- importance %.2f, confidence %.2f, used %d times'):format(
      e.importance or 0,
      e.confidence or 0,
      e.accessCount or 0
    ),
    ('- created %s, updated %s'):format(fmt_time(e.createdAt), fmt_time(e.updatedAt)),
  })
  if e.key then
    lines[#lines + 1] = ('- key: `%s`%s'):format(e.key, e.value and (' = `' .. tostring(e.value) .. '`') or '')
  end
  if e.language then
    lines[#lines + 1] = '- language: ' .. e.language
  end
  if e.tags and #e.tags > 0 then
    lines[#lines + 1] = '- tags: ' .. table.concat(e.tags, ', ')
  end
  if e.evidence then
    lines[#lines + 1] = ('- evidence: %d of %d'):format(e.evidence.matching or 0, e.evidence.total or 0)
  end
  if e.trigger then
    lines[#lines + 1] = '- trigger: ' .. e.trigger
  end
  if e.steps and #e.steps > 0 then
    vim.list_extend(lines, { '', '## Steps' })
    for i, s in ipairs(e.steps) do
      lines[#lines + 1] = ('%d. %s%s'):format(i, s.text or '', s.command and (' `' .. s.command .. '`') or '')
    end
  end
  if e.examples and #e.examples > 0 then
    vim.list_extend(lines, { '', '## Examples (gF opens one)' })
    for _, x in ipairs(e.examples) do
      lines[#lines + 1] = '- ' .. example_path(x, root)
    end
  end
  if e.history and #e.history > 0 then
    vim.list_extend(lines, { '', '## History' })
    for _, h in ipairs(e.history) do
      lines[#lines + 1] = ('- %s %s%s'):format(fmt_time(h.at), h.action or '', h.detail and (': ' .. h.detail) or '')
    end
  end
  return lines
end

-- Caches ids for completion of `:Tacit forget`.
local known_ids = {}
local function remember_ids(entries)
  for _, e in ipairs(entries or {}) do
    local entry = e.entry or e
    if entry.id then
      known_ids[entry.id] = true
    end
  end
end

local function client_root(bufnr)
  local c = tacit.client(bufnr)
  return c and c.root_dir or nil
end

-- Subcommands ----------------------------------------------------------------------------

local sub = {}

--- When the client serving `bufnr` has no repository (a file outside any `.git` root): why
--- there is nothing to index. `:Tacit context` and `:Tacit reindex` both say it.
local function outside_repository(bufnr)
  local client = tacit.client(bufnr)
  if not client or client.root_dir or (client.workspace_folders and #client.workspace_folders > 0) then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fs.dirname(vim.fs.normalize(name)) or vim.fs.normalize(vim.fn.getcwd())
  return ('%s is not in a git repository, so there is nothing to index: tacit learns conventions from a '
    .. 'repository (open a file inside one). :Tacit remember still works here.'):format(dir)
end

function sub.context(cmd)
  local src = tacit.source_buf(0)
  local query = cmd.args ~= '' and cmd.args or nil
  local outside = outside_repository(src)
  tacit.context(
    { query = query, bufnr = src },
    on_ok(function(r)
      local lines = {}
      if outside then
        vim.list_extend(lines, { '> ' .. outside, '' })
      end
      if r.embedder and r.embedder.fallback then
        lines[#lines + 1] = ('> Ranked with the lexical fallback embedder (%s): it matches words, not meaning.'):format(
          r.embedder.fallbackReason or 'no model'
        )
        lines[#lines + 1] = ''
      end
      -- The server's hint names the CLI; here the same step is a :Tacit command.
      local hint = outside and 'Remember something with `:Tacit remember`.' or 'Run `:Tacit reindex` or remember something.'
      vim.list_extend(lines, split_lines((r.markdown or ''):gsub('Run `tacit index` or remember something%.', hint)))
      if r.tokensUsed then
        vim.list_extend(lines, {
          '',
          ('<!-- %d of %d tokens · %s · %d ms -->'):format(
            r.tokensUsed,
            r.budgetTokens or 0,
            r.embedder and r.embedder.id or '?',
            math.floor((r.timing and tonumber(r.timing.totalMs) or 0) + 0.5)
          ),
        })
      end
      M.show('context', lines, { source = src })
    end)
  )
end

function sub.remember(cmd)
  local flags, text = parse_flags(cmd.fargs, { tag = true })
  if cmd.range and cmd.range > 0 then
    local sel = range_text(cmd)
    text = text ~= '' and (text .. '\n' .. sel) or sel
  end
  -- `--team`: the team store, which every teammate's server reads (`scope: "team"`).
  if flags.team and flags.scope then
    return notify('--team and --scope exclude each other: --team is the team scope', vim.log.levels.ERROR)
  end
  local scope = flags.team and 'team' or flags.scope
  local function send(t)
    if not t or vim.trim(t) == '' then
      return notify('nothing to remember: give a text or a visual selection', vim.log.levels.WARN)
    end
    tacit.remember(
      {
        text = t,
        layer = flags.layer,
        key = flags.key,
        tags = flags.tag,
        scope = scope,
        importance = flags.importance and tonumber(flags.importance) or nil,
        bufnr = tacit.source_buf(0),
      },
      on_ok(function(r)
        remember_ids({ r.entry })
        local msg = ('remembered %s [%s] in the %s store'):format(r.entry.id, r.entry.layer, r.store == 'team' and 'team' or 'local')
        if r.merged then
          msg = msg .. ', merged with an existing entry'
        end
        if r.superseded and #r.superseded > 0 then
          msg = msg .. (', superseding %s'):format(table.concat(r.superseded, ', '))
        end
        -- A count (0 when nothing was redacted, and 0 is true in Lua).
        local redacted = tonumber(r.redacted) or 0
        if redacted > 0 then
          msg = msg .. (' (%d %s redacted)'):format(redacted, redacted == 1 and 'secret' or 'secrets')
        end
        notify(msg)
      end)
    )
  end
  if vim.trim(text) == '' and not (cmd.range and cmd.range > 0) then
    vim.ui.input({ prompt = 'tacit remember: ' }, send)
  else
    send(text)
  end
end

function sub.recall(cmd)
  local flags, query = parse_flags(cmd.fargs, { layer = true })
  if vim.trim(query) == '' then
    return notify('usage: :Tacit recall [--layer=L] [--limit=N] {query}', vim.log.levels.ERROR)
  end
  local src = tacit.source_buf(0)
  tacit.recall(
    {
      query = query,
      layers = flags.layer,
      limit = flags.limit and tonumber(flags.limit) or nil,
      includeSuperseded = flags.all and true or nil,
      bufnr = src,
    },
    on_ok(function(r)
      remember_ids(r.entries)
      local lines = { '# Recall — ' .. query, '' }
      if #r.entries == 0 then
        lines[#lines + 1] = '_Nothing relevant remembered._'
      end
      for i, hit in ipairs(r.entries) do
        local e = hit.entry
        lines[#lines + 1] = ('%d. **%s** %s _(score %.2f, `%s`%s)_'):format(
          i,
          e.layer,
          one_line(e.text),
          hit.score or 0,
          e.id,
          e.status ~= 'active' and (', ' .. e.status) or ''
        )
      end
      M.show('recall', lines, { source = src })
    end)
  )
end

function sub.forget(cmd)
  local id = vim.trim(cmd.args)
  if id == '' then
    return notify('usage: :Tacit forget {id}', vim.log.levels.ERROR)
  end
  tacit.forget(
    { id = id, bufnr = tacit.source_buf(0) },
    on_ok(function(r)
      known_ids[id] = nil
      notify('forgot ' .. (r.forgotten or id))
    end)
  )
end

function sub.export(cmd)
  local file = vim.trim(cmd.args)
  local src = tacit.source_buf(0)
  local args = { bufnr = src }
  if file ~= '' then
    args.path = vim.fn.fnamemodify(vim.fn.expand(file), ':p')
  end
  tacit.export(
    args,
    on_ok(function(r)
      if r.path then
        notify(('exported %d entries to %s'):format(r.count, r.path))
      else
        local lines = split_lines(r.jsonl)
        if lines[#lines] == '' then
          lines[#lines] = nil
        end
        M.show('export', lines, { filetype = 'json', source = src })
      end
    end)
  )
end

--- The team store of `tacit.status` in words: where, and whether it is reachable.
function M.team_store_line(t)
  if type(t) ~= 'table' or t.state == 'off' or t.state == nil then
    return 'off (set `teamStore` to share memory with the team)'
  end
  local where = (type(t.uri) == 'string' and t.uri ~= '') and ('`' .. t.uri .. '` ') or ''
  if t.state == 'connected' then
    return where .. 'connected' .. (t.entries and (', %d entries'):format(t.entries) or '')
  end
  if t.state == 'connecting' then
    return where .. 'connecting'
  end
  return where .. 'unreachable' .. (t.reason and (': ' .. t.reason) or '')
end

function sub.status()
  local src = tacit.source_buf(0)
  local client = tacit.client(src)
  tacit.status(
    { bufnr = src },
    on_ok(function(s)
      local e = s.embedder or {}
      local lines = {
        '# tacit status',
        '',
        ('- version: %s (schema %s)'):format(s.version or '?', s.schemaVersion or '?'),
        ('- store: `%s`'):format(s.store or '?'),
        ('- embedder: %s%s'):format(
          e.id or '?',
          e.fallback and (' — **lexical fallback**: ' .. (e.fallbackReason or '')) or (e.modelDir and (' (' .. e.modelDir .. ')') or '')
        ),
        ('- team store: %s'):format(M.team_store_line(s.teamStore)),
        ('- indexing: %s'):format(s.indexing and 'yes' or 'no'),
        ('- server memory: %s'):format(
          type(s.residentBytes) == 'number' and ('%d MB resident'):format(math.floor(s.residentBytes / 1048576)) or 'not reported'
        ),
        ('- client: %s (id %d, root %s)'):format(client and client.name or '?', client and client.id or -1, client and client.root_dir or '-'),
        '',
        '## Workspaces',
      }
      for _, w in ipairs(s.workspaces or {}) do
        lines[#lines + 1] = ('- %s `%s`'):format(w.root, w.scope)
      end
      vim.list_extend(lines, { '', '## Entries' })
      for layer, statuses in vim.spairs(s.counts or {}) do
        local parts = {}
        for status, n in vim.spairs(statuses) do
          parts[#parts + 1] = ('%d %s'):format(n, status)
        end
        lines[#lines + 1] = ('- %s: %s'):format(layer, table.concat(parts, ', '))
      end
      if s.lastIndex and #s.lastIndex > 0 then
        vim.list_extend(lines, { '', '## Last index' })
        for _, li in ipairs(s.lastIndex) do
          if type(li) == 'table' then
            local w = li.written or {}
            lines[#lines + 1] = ('- %s: %s files, %s written, %s superseded, %s redacted, %s unchanged, in %s ms%s'):format(
              li.root or '?',
              li.filesScanned or '?',
              w.written or 0,
              w.superseded or 0,
              w.redacted or 0,
              w.unchanged or 0,
              li.durationMs or '?',
              (li.problems and #li.problems > 0) and (' — ' .. #li.problems .. ' problem(s)') or ''
            )
          else
            lines[#lines + 1] = '- ' .. tostring(li)
          end
        end
      end
      M.show('status', lines, { source = src })
    end)
  )
end

function sub.reindex()
  local src = tacit.source_buf(0)
  local outside = outside_repository(src)
  if outside then
    return notify(outside, vim.log.levels.WARN)
  end
  tacit.reindex(
    { bufnr = src },
    on_ok(function(r)
      notify('indexing ' .. table.concat(r.roots or {}, ', '))
    end)
  )
end

function sub.restart()
  tacit.restart(function(client, err)
    if not client then
      return notify(err or 'no tacit server started', vim.log.levels.ERROR)
    end
    notify(('restarted the server (client %d, %s)'):format(client.id, client.root_dir or 'no repository'))
  end)
end

--- The formats `:Tacit write` writes (`tacit write-instructions --format`).
M.formats = { 'agents', 'claude', 'copilot', 'cursor', 'windsurf' }

--- What a write (or a dry run) of instruction files did, in one line.
local function describe_write(r, dry_run)
  local created, updated, parts = {}, {}, {}
  for _, f in ipairs(r.files or {}) do
    if f.changed then
      table.insert(f.created and created or updated, f.path)
    end
  end
  if #created == 0 and #updated == 0 then
    parts[#parts + 1] = 'the instruction files are up to date'
  end
  if #created > 0 then
    parts[#parts + 1] = (dry_run and 'would create ' or 'created ') .. table.concat(created, ', ')
  end
  if #updated > 0 then
    parts[#parts + 1] = (dry_run and 'would update ' or 'updated ') .. table.concat(updated, ', ')
  end
  for _, c in ipairs(r.conflicts or {}) do
    parts[#parts + 1] = ('left out a rule that %s:%d contradicts (%s)'):format(c.file, c.line, one_line(c.handWritten, 60))
  end
  for _, p in ipairs(r.problems or {}) do
    parts[#parts + 1] = 'left alone: ' .. p
  end
  return table.concat(parts, '; ')
end

--- A unified diff of each file a plan changes, against what is on disk under `root`.
---@return string[]
function M.plan_diff(plan, root)
  local diff = (vim.text and vim.text.diff) or vim.diff
  local lines = {}
  for _, f in ipairs(plan.files or {}) do
    if f.changed then
      local path = vim.fs.joinpath(root, f.path)
      local old = ''
      if not f.created and vim.fn.filereadable(path) == 1 then
        old = table.concat(vim.fn.readfile(path, 'b'), '\n')
      end
      vim.list_extend(lines, { 'diff ' .. f.path, '--- ' .. (f.created and '/dev/null' or ('a/' .. f.path)), '+++ b/' .. f.path })
      local hunks = diff(old, f.content, { result_type = 'unified', ctxlen = 3 })
      vim.list_extend(lines, vim.split(vim.trim(hunks), '\n', { plain = true }))
    end
  end
  return lines
end

function sub.write(cmd)
  local flags, format = parse_flags(cmd.fargs, {})
  format = vim.trim(format)
  if not vim.tbl_contains(M.formats, format) then
    return notify(
      ('usage: :Tacit write [--dry-run] [--yes] {format}, format one of %s'):format(table.concat(M.formats, ', ')),
      vim.log.levels.ERROR
    )
  end
  local src = tacit.source_buf(0)
  local outside = outside_repository(src)
  if outside then
    return notify(outside, vim.log.levels.WARN)
  end
  local root = client_root(src)
  local args = { format = format, root = root, bufnr = src }
  tacit.write_instructions(
    vim.tbl_extend('force', args, { dryRun = true }),
    on_ok(function(plan)
      local summary = describe_write(plan, true)
      local diff = M.plan_diff(plan, root or vim.fn.getcwd())
      if #diff == 0 then
        return notify(summary)
      end
      M.show('write/' .. format, diff, { filetype = 'diff', source = src })
      if flags['dry-run'] then
        return notify(summary)
      end
      local function write()
        tacit.write_instructions(
          args,
          on_ok(function(r)
            notify(describe_write(r, false))
            vim.cmd.checktime()
          end)
        )
      end
      if flags.yes then
        return write()
      end
      vim.ui.select({ 'Write', 'Cancel' }, {
        prompt = ('tacit: %s?'):format(summary),
        kind = 'tacit.confirm',
      }, function(choice)
        if choice == 'Write' then
          write()
        else
          notify('nothing written')
        end
      end)
    end)
  )
end

--- What can be done with one entry, for `:Tacit memories`.
local function entry_actions(e)
  local actions = { 'open', 'edit' }
  if e.layer == 'pinned' then
    actions[#actions + 1] = 'unpin'
  else
    actions[#actions + 1] = 'pin'
  end
  if e.status ~= 'active' then
    actions[#actions + 1] = 'restore'
  end
  actions[#actions + 1] = 'forget'
  return actions
end

M.entry_actions = entry_actions

--- Runs one action of `:Tacit memories` on an entry.
function M.act(action, e, src)
  local done = function(what)
    return on_ok(function()
      notify(('%s %s'):format(what, e.id))
    end)
  end
  if action == 'open' then
    M.show('entry/' .. e.id, entry_lines(e, client_root(src)), { source = src })
  elseif action == 'edit' then
    vim.ui.input({ prompt = 'tacit edit: ', default = one_line(e.text) }, function(text)
      if text and vim.trim(text) ~= '' and text ~= e.text then
        tacit.update({ id = e.id, text = text, bufnr = src }, done('updated'))
      end
    end)
  elseif action == 'forget' then
    -- Forgetting deletes for good (also from the store's older versions): ask first.
    vim.ui.select({ 'Forget', 'Cancel' }, {
      prompt = ('Forget "%s" for good?'):format(one_line(e.text, 60)),
      kind = 'tacit.confirm',
    }, function(choice)
      if choice == 'Forget' then
        tacit.forget({ id = e.id, bufnr = src }, done('forgot'))
      else
        notify('kept ' .. e.id)
      end
    end)
  elseif action == 'restore' then
    tacit.restore({ id = e.id, bufnr = src }, done('restored'))
  elseif action == 'pin' then
    tacit.pin({ id = e.id, bufnr = src }, done('pinned'))
  elseif action == 'unpin' then
    tacit.unpin({ id = e.id, bufnr = src }, done('unpinned'))
  end
end

--- The date an entry is about: an episode's last commit, else its last update.
local function entry_date(e)
  return (e.period and e.period['end']) or e.updatedAt or 0
end

--- Groups of `:Tacit memories`, in this order: Pinned, Conventions by language (General
--- last), Procedures, Episodes (newest first, dated), Superseded and expired. Empty groups
--- are left out. Each is `{label, entries}`.
---@param entries table[]
---@return {label: string, entries: table[]}[]
function M.memory_groups(entries)
  local pinned, procedures, episodes, inactive, by_lang = {}, {}, {}, {}, {}
  for _, e in ipairs(entries) do
    if e.status ~= 'active' then
      inactive[#inactive + 1] = e
    elseif e.layer == 'pinned' then
      pinned[#pinned + 1] = e
    elseif e.layer == 'procedure' then
      procedures[#procedures + 1] = e
    elseif e.layer == 'episode' then
      episodes[#episodes + 1] = e
    else
      local lang = e.language and e.language ~= '' and e.language or ''
      by_lang[lang] = by_lang[lang] or {}
      table.insert(by_lang[lang], e)
    end
  end
  local by_importance = function(a, b)
    if (a.importance or 0) ~= (b.importance or 0) then
      return (a.importance or 0) > (b.importance or 0)
    end
    return (a.text or '') < (b.text or '')
  end
  local newest_first = function(a, b)
    if entry_date(a) ~= entry_date(b) then
      return entry_date(a) > entry_date(b)
    end
    return a.id < b.id
  end
  local by_key = function(a, b)
    if (a.key or '\255') ~= (b.key or '\255') then
      return (a.key or '\255') < (b.key or '\255')
    end
    return by_importance(a, b)
  end
  local groups = {}
  local function add(label, list, order)
    if #list > 0 then
      table.sort(list, order)
      groups[#groups + 1] = { label = ('%s (%d)'):format(label, #list), entries = list }
    end
  end
  add('Pinned', pinned, by_importance)
  local langs = vim.tbl_keys(by_lang)
  table.sort(langs, function(a, b)
    if a == '' or b == '' then
      return b == ''
    end
    return a < b
  end)
  for _, lang in ipairs(langs) do
    local name = lang == '' and 'General' or (lang:sub(1, 1):upper() .. lang:sub(2))
    add('Conventions · ' .. name, by_lang[lang], by_key)
  end
  add('Procedures', procedures, by_importance)
  add('Episodes', episodes, newest_first)
  add('Superseded and expired', inactive, newest_first)
  return groups
end

--- One line of the entry picker: episodes start with their date.
local function memory_label(e)
  if e.layer == 'episode' then
    return ('%s %s'):format(os.date('%Y-%m-%d', math.floor(entry_date(e) / 1000)), entry_label(e))
  end
  return entry_label(e)
end

function sub.memories(cmd)
  local flags = parse_flags(cmd.fargs, { layer = true })
  local src = tacit.source_buf(0)
  tacit.list(
    {
      layers = flags.layer,
      statuses = { 'active', 'superseded', 'expired' },
      allScopes = flags.all and true or nil,
      limit = tonumber(flags.limit or '') or 500,
      bufnr = src,
    },
    on_ok(function(r)
      remember_ids(r.entries)
      if #r.entries == 0 then
        return notify('no memories yet in this workspace')
      end
      local function pick_entry(group)
        vim.ui.select(group.entries, { prompt = 'tacit: ' .. group.label, format_item = memory_label, kind = 'tacit.entry' }, function(e)
          if not e then
            return
          end
          vim.ui.select(entry_actions(e), { prompt = one_line(e.text, 60), kind = 'tacit.action' }, function(action)
            if action then
              M.act(action, e, src)
            end
          end)
        end)
      end
      local groups = M.memory_groups(r.entries)
      if #groups == 1 then
        return pick_entry(groups[1])
      end
      vim.ui.select(groups, {
        prompt = 'tacit memories',
        format_item = function(g)
          return g.label
        end,
        kind = 'tacit.group',
      }, function(group)
        if group then
          pick_entry(group)
        end
      end)
    end)
  )
end

M.subcommands = {
  context = { run = sub.context, usage = '[query]' },
  remember = { run = sub.remember, usage = '[--layer=L] [--key=K] [--tag=T] [--scope=user | --team] [text]' },
  recall = { run = sub.recall, usage = '[--layer=L] [--limit=N] [--all] {query}' },
  memories = { run = sub.memories, usage = '[--layer=L] [--all]' },
  forget = { run = sub.forget, usage = '{id}' },
  export = { run = sub.export, usage = '[file]' },
  status = { run = sub.status, usage = '' },
  reindex = { run = sub.reindex, usage = '' },
  restart = { run = sub.restart, usage = '' },
  write = { run = sub.write, usage = '[--dry-run] [--yes] {format}' },
}

--- Entry point of `:Tacit`.
---@param cmd table  the user-command table (fargs, args, range, line1, line2)
function M.run(cmd)
  local name = cmd.fargs[1]
  if not name then
    return sub.context({ fargs = {}, args = '', range = 0 })
  end
  local spec = M.subcommands[name]
  if not spec then
    return notify(
      ('unknown subcommand `%s`; one of: %s'):format(name, table.concat(vim.tbl_keys(M.subcommands), ', ')),
      vim.log.levels.ERROR
    )
  end
  local fargs = vim.list_slice(cmd.fargs, 2)
  local args = vim.trim((cmd.args:gsub('^%s*%S+', '', 1)))
  local ok, err = pcall(spec.run, { fargs = fargs, args = args, range = cmd.range, line1 = cmd.line1, line2 = cmd.line2 })
  if not ok then
    notify_err(err)
  end
end

--- Completion of `:Tacit`.
function M.complete(arglead, cmdline, _)
  local words = vim.split((cmdline:gsub('^%s*%S*Tacit!?%s*', '')), '%s+', { trimempty = false })
  if #words <= 1 then
    return vim.tbl_filter(function(n)
      return vim.startswith(n, arglead)
    end, vim.fn.sort(vim.tbl_keys(M.subcommands)))
  end
  local name = words[1]
  if name == 'export' then
    return vim.fn.getcompletion(arglead, 'file')
  elseif name == 'forget' then
    return vim.tbl_filter(function(id)
      return vim.startswith(id, arglead)
    end, vim.fn.sort(vim.tbl_keys(known_ids)))
  elseif name == 'remember' and vim.startswith(arglead, '--') then
    return vim.tbl_filter(function(f)
      return vim.startswith(f, arglead)
    end, { '--layer=memory', '--layer=procedure', '--layer=episode', '--layer=pinned', '--key=', '--tag=', '--scope=user', '--team' })
  elseif name == 'write' then
    local choices = vim.startswith(arglead, '--') and { '--dry-run', '--yes' } or M.formats
    return vim.tbl_filter(function(f)
      return vim.startswith(f, arglead)
    end, choices)
  elseif (name == 'recall' or name == 'memories') and vim.startswith(arglead, '--') then
    return vim.tbl_filter(function(f)
      return vim.startswith(f, arglead)
    end, { '--layer=memory', '--layer=procedure', '--layer=episode', '--layer=pinned', '--limit=', '--all' })
  end
  return {}
end

return M
