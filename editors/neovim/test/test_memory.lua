-- remember → recall → forget through `:Tacit` and the Lua API, remembering a visual
-- selection, browsing with `:Tacit memories` (vim.ui.select), export, and completion.

local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'helpers.lua'))

local root = H.fixture('polyglot')
-- No start-up indexing: these cases are about memories people add.
H.setup(root, { init_options = { indexOnStartup = false } })
local tacit = require('tacit')
local buf

local function recall_ids(query)
  local err, r = H.await(tacit.recall, { query = query, limit = 20 })
  H.eq(nil, err, 'recall error')
  local ids = {}
  for _, hit in ipairs(r.entries) do
    ids[hit.entry.id] = hit.entry
  end
  return ids
end

local function remembered_id(from)
  local note = H.wait_note('^tacit: remembered ', vim.log.levels.INFO, from)
  return H.truthy(note.msg:match('^tacit: remembered (%S+)'), 'an id in ' .. note.msg)
end

H.test('the client attaches', function()
  local _
  _, buf = H.open(root, 'src/main.rs')
end)

local id
H.test(':Tacit remember → :Tacit recall → :Tacit forget', function()
  local from = #H.notifications
  vim.cmd('Tacit remember Database migrations are written with sqlx and never edited after merge')
  id = remembered_id(from)

  vim.cmd('Tacit recall how do we write database migrations?')
  local lines = H.scratch('recall')
  H.contains(lines, 'never edited after merge', 'recall buffer')
  H.contains(lines, id, 'recall buffer')
  H.truthy(recall_ids('database migrations sqlx')[id], 'the API recalls it too')

  H.close_scratch()
  vim.api.nvim_set_current_buf(buf)
  from = #H.notifications
  vim.cmd('Tacit forget ' .. id)
  H.wait_note('^tacit: forgot ' .. vim.pesc(id), vim.log.levels.INFO, from)
  H.eq(nil, recall_ids('database migrations sqlx')[id], 'recall after forget')
  local err = H.await(tacit.get, { id = id })
  H.truthy(err and err.code == -32602, 'get of a forgotten id is an invalid-params error')
  H.eq(0, #H.notes(vim.log.levels.WARN), 'no warnings or errors')
end)

H.test('the Lua API: remember, recall and forget return the structured results', function()
  local err, r = H.await(tacit.remember, { text = 'Feature flags live in config/flags.toml', tags = { 'flags' }, key = 'flags.location' })
  H.eq(nil, err, 'remember error')
  H.eq('memory', r.entry.layer, 'layer')
  H.eq('flags.location', r.entry.key, 'key')
  H.eq({ 'flags' }, r.entry.tags, 'tags')
  H.eq(false, r.merged, 'merged')
  local hit = recall_ids('where are feature flags configured?')[r.entry.id]
  H.truthy(hit, 'recalled')
  H.eq('Feature flags live in config/flags.toml', hit.text, 'text')
  -- The synchronous form.
  local f, ferr = tacit.forget({ id = r.entry.id })
  H.eq(nil, ferr, 'forget error')
  H.eq(r.entry.id, f.forgotten, 'forgotten')
end)

H.test(':Tacit remember takes a visual selection (charwise and linewise)', function()
  local notes = vim.fs.joinpath(root, 'NOTES.md')
  vim.fn.writefile({ 'Intro line', 'Always run make lint before pushing.', 'Prefer small PRs.' }, notes)
  vim.cmd.edit(notes)
  H.wait(function()
    return vim.lsp.get_clients({ name = 'tacit', bufnr = 0 })[1] ~= nil
  end, 'the client to attach to NOTES.md')
  -- Charwise: "make lint before pushing" on line 2.
  vim.cmd('normal! 2G0fmvf.h\27')
  local from = #H.notifications
  vim.cmd("'<,'>Tacit remember")
  local cid = remembered_id(from)
  local err, e = H.await(tacit.get, { id = cid })
  H.eq(nil, err, 'get error')
  H.eq('make lint before pushing', e.text, 'charwise selection')
  -- Linewise.
  from = #H.notifications
  vim.cmd('2,3Tacit remember')
  local lid = remembered_id(from)
  err, e = H.await(tacit.get, { id = lid })
  H.eq(nil, err, 'get error')
  H.eq('Always run make lint before pushing.\nPrefer small PRs.', e.text, 'linewise selection')
  vim.api.nvim_set_current_buf(buf)
end)

H.test(':Tacit memories browses with vim.ui.select: open, edit, pin, forget', function()
  local err, r = H.await(tacit.remember, { text = 'Errors are wrapped with anyhow context at module boundaries' })
  H.eq(nil, err, 'remember error')
  local mid = r.entry.id
  local select, input = vim.ui.select, vim.ui.input
  local offered
  local function choose(action)
    vim.ui.select = function(items, opts, on_choice)
      if opts.kind == 'tacit.entry' then
        for _, item in ipairs(items) do
          if item.id == mid then
            H.contains(opts.format_item(item), 'anyhow context', 'format_item')
            return on_choice(item)
          end
        end
        error('entry not offered')
      end
      offered = items
      on_choice(action)
    end
  end
  vim.ui.input = function(_, on_confirm)
    on_confirm('Errors are wrapped with anyhow context at crate boundaries')
  end
  local ok, e = pcall(function()
    choose('open')
    vim.cmd('Tacit memories')
    H.contains(H.scratch('entry/' .. mid), mid, 'entry buffer')
    H.eq({ 'open', 'edit', 'pin', 'forget' }, offered, 'actions of an active memory')
    H.close_scratch()
    vim.api.nvim_set_current_buf(buf)

    local from = #H.notifications
    choose('edit')
    vim.cmd('Tacit memories')
    H.wait_note('^tacit: updated', vim.log.levels.INFO, from)
    local _, got = H.await(tacit.get, { id = mid })
    H.eq('Errors are wrapped with anyhow context at crate boundaries', got.text, 'edited text')

    from = #H.notifications
    choose('pin')
    vim.cmd('Tacit memories')
    H.wait_note('^tacit: pinned', vim.log.levels.INFO, from)
    local _, pinned = H.await(tacit.list, { layers = { 'pinned' } })
    local found
    for _, p in ipairs(pinned.entries) do
      if p.text:find('crate boundaries', 1, true) then
        found = p
      end
    end
    H.truthy(found, 'a pinned entry with the text')

    mid = found.id
    from = #H.notifications
    choose('forget')
    vim.cmd('Tacit memories')
    H.wait_note('^tacit: forgot', vim.log.levels.INFO, from)
    local gerr = H.await(tacit.get, { id = mid })
    H.truthy(gerr, 'the forgotten entry is gone')
  end)
  vim.ui.select, vim.ui.input = select, input
  assert(ok, e)
  H.eq(0, #H.notes(vim.log.levels.WARN), 'no warnings or errors')
end)

H.test(':Tacit export {file} writes JSON lines', function()
  H.await(tacit.remember, { text = 'Releases are tagged vX.Y.Z from main' })
  local file = vim.fs.joinpath(H.tempdir('tacit-export'), 'memory.jsonl')
  local from = #H.notifications
  vim.cmd('Tacit export ' .. vim.fn.fnameescape(file))
  H.wait_note('^tacit: exported %d+ entries to ' .. vim.pesc(file), vim.log.levels.INFO, from)
  local lines = vim.fn.readfile(file)
  H.truthy(#lines >= 1, 'at least one line')
  local texts = {}
  for _, l in ipairs(lines) do
    texts[#texts + 1] = vim.json.decode(l).text
  end
  H.contains(texts, 'Releases are tagged vX.Y.Z from main', 'export')
end)

H.test(':Tacit completes its subcommands and flags', function()
  H.eq({ 'recall', 'reindex', 'remember' }, vim.fn.getcompletion('Tacit re', 'cmdline'), 'subcommands')
  H.eq(
    { 'context', 'export', 'forget', 'memories', 'recall', 'reindex', 'remember', 'status' },
    vim.fn.getcompletion('Tacit ', 'cmdline'),
    'all subcommands'
  )
  H.eq({ '--layer=pinned' }, vim.fn.getcompletion('Tacit remember --layer=pi', 'cmdline'), 'flags')
end)

H.finish()
