-- remember → recall → forget through `:Tacit` and the Lua API, remembering a visual
-- selection (and what a remember says about redacted secrets), browsing with
-- `:Tacit memories` (vim.ui.select: groups by layer and language, episodes by date, a
-- question before forgetting), export, and completion.

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

H.test(':Tacit remember says how many secrets were redacted, and nothing when none were', function()
  local from = #H.notifications
  vim.cmd('Tacit remember Integration tests run against a local Postgres in docker compose')
  local plain = H.wait_note('^tacit: remembered ', vim.log.levels.INFO, from)
  H.truthy(not plain.msg:find('redacted', 1, true), 'no redaction claimed: ' .. plain.msg)
  from = #H.notifications
  vim.cmd('Tacit remember The deploy bot uses token ghp_abcdefghijklmnopqrstuvwxyz0123456789 until March')
  local secret = H.wait_note('^tacit: remembered ', vim.log.levels.INFO, from)
  H.truthy(secret.msg:find('%(1 secret redacted%)$'), 'one secret redacted: ' .. secret.msg)
  local _, e = H.await(tacit.get, { id = secret.msg:match('^tacit: remembered (%S+)') })
  H.truthy(e.text:find('[REDACTED:', 1, true), 'stored redacted: ' .. e.text)
  for _, n in ipairs({ plain, secret }) do
    H.await(tacit.forget, { id = n.msg:match('^tacit: remembered (%S+)') })
  end
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

H.test(':Tacit memories browses with vim.ui.select: a group, an entry, then open, edit, pin, forget', function()
  local err, r = H.await(tacit.remember, { text = 'Errors are wrapped with anyhow context at module boundaries' })
  H.eq(nil, err, 'remember error')
  local mid = r.entry.id
  -- A second layer, so that the picker starts with the groups.
  local _, proc = H.await(tacit.remember, { text = 'Before a release: bump the version, then tag it', layer = 'procedure' })
  local select, input = vim.ui.select, vim.ui.input
  local offered, groups, confirmed
  local function choose(action, confirm)
    vim.ui.select = function(items, opts, on_choice)
      if opts.kind == 'tacit.group' then
        groups = vim.tbl_map(opts.format_item, items)
        for _, g in ipairs(items) do
          for _, item in ipairs(g.entries) do
            if item.id == mid then
              return on_choice(g)
            end
          end
        end
        error('no group holds the entry')
      elseif opts.kind == 'tacit.entry' then
        for _, item in ipairs(items) do
          if item.id == mid then
            H.contains(opts.format_item(item), 'anyhow context', 'format_item')
            return on_choice(item)
          end
        end
        error('entry not offered')
      elseif opts.kind == 'tacit.confirm' then
        H.contains(opts.prompt, 'Forget', 'the question')
        confirmed = true
        return on_choice(confirm)
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
    H.truthy(vim.tbl_contains(vim.tbl_map(function(g)
      return (g:gsub(' %(%d+%)$', ''))
    end, groups), 'Conventions · General'), 'groups: ' .. table.concat(groups, ', '))
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
    -- Forgetting asks first: "Cancel" keeps the entry.
    from = #H.notifications
    confirmed = false
    choose('forget', 'Cancel')
    vim.cmd('Tacit memories')
    H.wait_note('^tacit: kept ' .. vim.pesc(mid), vim.log.levels.INFO, from)
    H.truthy(confirmed, 'asked before forgetting')
    local kerr = H.await(tacit.get, { id = mid })
    H.eq(nil, kerr, 'the entry is still there')

    from = #H.notifications
    choose('forget', 'Forget')
    vim.cmd('Tacit memories')
    H.wait_note('^tacit: forgot', vim.log.levels.INFO, from)
    local gerr = H.await(tacit.get, { id = mid })
    H.truthy(gerr, 'the forgotten entry is gone')
  end)
  vim.ui.select, vim.ui.input = select, input
  H.await(tacit.forget, { id = proc.entry.id })
  assert(ok, e)
  H.eq(0, #H.notes(vim.log.levels.WARN), 'no warnings or errors')
end)

H.test(':Tacit memories groups by layer and language, and lists episodes newest first with their date', function()
  -- Three weeks of two commits each (Mondays from 2026-10-05) make three episodes.
  local week = 7 * 86400
  local start = 1791201600 -- 2026-10-05 12:00 UTC
  H.await(tacit.remember, { text = 'Pull requests need one approving review before merge' })
  for w = 0, 2 do
    for c = 0, 1 do
      local when = ('@%d +0000'):format(start + w * week + c * 3600)
      vim.fn.writefile({ 'note ' .. c }, vim.fs.joinpath(root, ('week-%d-%d.md'):format(w, c)))
      H.git(root, { 'add', '-A' }, { GIT_AUTHOR_DATE = when, GIT_COMMITTER_DATE = when })
      H.git(root, { 'commit', '-qm', ('docs: week %d note %d'):format(w, c) }, { GIT_AUTHOR_DATE = when, GIT_COMMITTER_DATE = when })
    end
  end
  local from = #H.progress
  local rerr = H.await(tacit.reindex, {})
  H.eq(nil, rerr, 'reindex error')
  H.wait_indexed(nil, from)
  local select = vim.ui.select
  local groups, episodes
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind == 'tacit.group' then
      groups = items
      for _, g in ipairs(items) do
        if g.label:match('^Episodes') then
          return on_choice(g)
        end
      end
      error('no Episodes group among ' .. table.concat(vim.tbl_map(opts.format_item, items), ', '))
    end
    episodes = vim.tbl_map(opts.format_item, items)
    on_choice(nil)
  end
  local ok, e = pcall(function()
    vim.cmd('Tacit memories')
    H.wait(function()
      return episodes ~= nil
    end, 'the episode picker')
  end)
  vim.ui.select = select
  assert(ok, e)
  local labels = vim.tbl_map(function(g)
    return (g.label:gsub(' %(%d+%)$', ''))
  end, groups)
  local rank = { Pinned = 1, Conventions = 2, Procedures = 3, Episodes = 4, Superseded = 5 }
  local ranks = vim.tbl_map(function(l)
    return H.truthy(rank[l:match('^%a+')], 'a known group: ' .. l)
  end, labels)
  local in_order = vim.deepcopy(ranks)
  table.sort(in_order)
  H.eq(in_order, ranks, 'groups in order: ' .. table.concat(labels, ', '))
  local conventions = vim.tbl_filter(function(l)
    return l:match('^Conventions · ')
  end, labels)
  H.truthy(#conventions >= 2, 'conventions split by language: ' .. table.concat(labels, ', '))
  H.eq('Conventions · General', conventions[#conventions], 'General last')
  H.truthy(#episodes >= 3, 'three episodes at least: ' .. table.concat(episodes, '\n'))
  local dates = {}
  for _, l in ipairs(episodes) do
    dates[#dates + 1] = H.truthy(l:match('^(%d%d%d%d%-%d%d%-%d%d) '), 'a date first: ' .. l)
  end
  local sorted = vim.deepcopy(dates)
  table.sort(sorted, function(a, b)
    return a > b
  end)
  H.eq(sorted, dates, 'newest first')
  H.eq('2026-10-19', dates[1], 'the last week of the history first')
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
  H.eq({ 'recall', 'reindex', 'remember', 'restart' }, vim.fn.getcompletion('Tacit re', 'cmdline'), 'subcommands')
  H.eq(
    { 'context', 'export', 'forget', 'memories', 'recall', 'reindex', 'remember', 'restart', 'status', 'write' },
    vim.fn.getcompletion('Tacit ', 'cmdline'),
    'all subcommands'
  )
  H.eq({ '--layer=pinned' }, vim.fn.getcompletion('Tacit remember --layer=pi', 'cmdline'), 'flags')
  H.eq({ '--team' }, vim.fn.getcompletion('Tacit remember --te', 'cmdline'), '--team')
end)

H.test(':Tacit remember --team without a team store says why; a plain remember names the local store', function()
  vim.api.nvim_set_current_buf(buf)
  local from = #H.notifications
  vim.cmd('Tacit remember --team Never call the billing API from tests')
  -- The server's own refusal, shown as it is (it says why: no team store is configured).
  local refused = H.wait_note('tacit%.remember: .*team', vim.log.levels.ERROR, from)
  H.truthy(vim.startswith(refused.msg, 'tacit: '), 'said by tacit: ' .. refused.msg)
  H.eq(0, #vim.tbl_filter(function(n)
    return n.msg:find('^tacit: remembered ') ~= nil
  end, H.notes(0, from)), 'nothing remembered')
  from = #H.notifications
  vim.cmd('Tacit remember Billing fixtures live in tests/billing')
  local note = H.wait_note('^tacit: remembered ', vim.log.levels.INFO, from)
  H.contains(note.msg, 'in the local store', 'the store')
  H.await(tacit.forget, { id = note.msg:match('^tacit: remembered (%S+)') })
  vim.cmd('Tacit status')
  H.contains(H.scratch('status'), '- team store: off', ':Tacit status')
  H.close_scratch()
end)

H.finish()
