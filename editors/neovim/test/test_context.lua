-- With the README's lazy.nvim spec: the client attaches to the fixture repository, indexing
-- reports progress through LspProgress until it ends (the last step saying what it does),
-- `:Tacit context` shows the learned convention (tokio), the Lua API returns the structured
-- result, and `:checkhealth tacit` is all OK.

local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'helpers.lua'))

local root = H.fixture('polyglot')
local spec = H.setup(root, { lazy = true })
local client, buf

H.test("the README's lazy.nvim spec loads the plugin", function()
  H.eq('tacit', spec.main, 'main')
  H.eq(H.plugin_dir, (spec.dir:gsub('~/src/tacit', H.repo_dir)), 'dir')
  H.eq(2, vim.fn.exists(':Tacit'), ':Tacit is defined')
  H.truthy(vim.lsp.is_enabled('tacit'), 'the server is enabled')
end)

H.test('the tacit client attaches to a file of the repository', function()
  client, buf = H.open(root, 'src/main.rs')
  H.eq('tacit', client.name, 'client name')
  H.eq(root, client.root_dir, 'root_dir')
  H.truthy(client.server_capabilities.executeCommandProvider, 'executeCommandProvider')
end)

H.test('indexing reports progress through LspProgress until it ends', function()
  H.wait_indexed()
  -- Two kinds of progress: opening the store and the model once (`tacit/start`, after the
  -- server has already answered `initialize`), then each indexing run.
  local kinds = { start = {}, index = {} }
  for _, p in ipairs(H.progress) do
    if p.client == 'tacit' then
      local token = tostring(p.token)
      local kind = token == 'tacit/start' and 'start' or token:match('^tacit/index/%d+$') and 'index'
      H.truthy(kind, 'token ' .. token)
      kinds[kind][p.kind] = true
    end
  end
  H.truthy(kinds.start.begin and kinds.start['end'], 'the start progress begins and ends')
  H.truthy(kinds.index.begin, 'an indexing begin event')
  H.truthy(kinds.index['end'], 'an indexing end event')
  -- The steps after the last commit is read say what they do, up to the end.
  local reports = {}
  for _, p in ipairs(H.progress) do
    if p.client == 'tacit' and p.kind == 'report' then
      reports[#reports + 1] = p.message
    end
  end
  -- The history's episodes come last, once the run has said its conventions are stored.
  local last = reports[#reports] or ''
  H.truthy(
    last:find('^.*: conventions stored; embedding and storing %d+ episodes from the history$'),
    'the last step: ' .. last
  )
  local analysing, conventions
  for _, m in ipairs(reports) do
    analysing = analysing or m:find('mined %d+ commits, finding conventions and episodes in them$')
    conventions = conventions or m:find('embedding and storing %d+ conventions from the history$')
  end
  H.truthy(analysing, 'the analysis step among:\n' .. table.concat(reports, '\n'))
  H.truthy(conventions, 'the history conventions step among:\n' .. table.concat(reports, '\n'))
  -- By default the user is told through vim.notify.
  H.wait_note('^tacit: indexing ' .. vim.pesc(root) .. '…$', vim.log.levels.INFO)
  H.wait_note('^tacit: indexing: done — indexed ' .. vim.pesc(root), vim.log.levels.INFO)
end)

H.test(':Tacit context shows the async runtime convention in a markdown scratch buffer', function()
  vim.api.nvim_set_current_buf(buf)
  vim.cmd('Tacit context which async runtime do we use?')
  local lines, sbuf = H.scratch('context')
  H.contains(lines, 'tokio', 'context buffer')
  H.eq('markdown', vim.bo[sbuf].filetype, 'filetype')
  H.eq('nofile', vim.bo[sbuf].buftype, 'buftype')
  H.eq(sbuf, vim.api.nvim_get_current_buf(), 'the scratch window has focus')
  H.eq(0, #H.notes(vim.log.levels.WARN), 'no warnings or errors')
end)

H.test(':Tacit context without a query opens a float when view = "float"', function()
  H.close_scratch()
  vim.api.nvim_set_current_buf(buf)
  require('tacit').options.view = 'float'
  vim.cmd('Tacit context')
  local lines, sbuf = H.scratch('context')
  H.contains(lines, 'Project context for src/main.rs', 'context buffer')
  local win = vim.fn.bufwinid(sbuf)
  H.truthy(vim.api.nvim_win_get_config(win).relative ~= '', 'a floating window')
  vim.api.nvim_win_close(win, true)
  require('tacit').options.view = 'split'
  vim.api.nvim_set_current_buf(buf)
end)

H.test('require("tacit").context returns the structured result', function()
  local err, r = H.await(require('tacit').context, { query = 'which async runtime do we use?', bufnr = buf })
  H.eq(nil, err, 'error')
  local found
  for _, hit in ipairs(r.memories) do
    if hit.entry.key == 'stack.async_runtime' then
      found = hit.entry
    end
  end
  H.truthy(found, 'a memory with key stack.async_runtime')
  H.eq('tokio', found.value, 'its value')
  H.contains(r.markdown, 'tokio', 'markdown')
  H.eq(false, r.embedder.fallback, 'embedder.fallback (the real model is installed)')
  H.truthy(type(r.tokensUsed) == 'number' and r.tokensUsed <= r.budgetTokens, 'within budget')
  -- The synchronous form, from the scratch buffer (which maps back to the source buffer).
  local sync, serr = require('tacit').context('which async runtime do we use?')
  H.eq(nil, serr, 'sync error')
  H.contains(sync.markdown, 'tokio', 'sync markdown')
end)

H.test(':checkhealth tacit reports OK', function()
  local text = H.health()
  for _, want in ipairs({ 'OK tacit 0', 'OK sentence-transformers/all-MiniLM-L6-v2', 'is writable', 'client ' .. client.id .. ' attached' }) do
    H.contains(text, want, 'health report')
  end
  if text:find('ERROR', 1, true) or text:find('WARNING', 1, true) then
    error('health report has problems:\n' .. text)
  end
  vim.cmd('tabclose')
end)

H.test(':Tacit status shows the store, the model, the workspace and the server memory', function()
  vim.api.nvim_set_current_buf(buf)
  vim.cmd('Tacit status')
  local lines = H.scratch('status')
  H.contains(lines, H.store, 'status')
  H.contains(lines, root, 'status')
  H.contains(lines, 'all-MiniLM-L6-v2', 'status')
  -- The server's own resident memory, as its kernel counts it.
  local rss = table.concat(lines, '\n'):match('%- server memory: (%d+) MB resident')
  H.truthy(rss and tonumber(rss) > 0, 'the server memory line in:\n' .. table.concat(lines, '\n'))
end)

H.finish()
