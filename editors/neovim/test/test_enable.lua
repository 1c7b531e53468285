-- The README's built-in recipe as written (`vim.opt.rtp:append(...)` and
-- `vim.lsp.enable('tacit')`, no setup()) with its statusline snippet: `:help tacit` works,
-- the `lsp/tacit.lua` config finds the binary through $TACIT_BIN and attaches with the
-- `.git` root, indexing progress shows through vim.notify by default and in the statusline,
-- and `:Tacit` works.

local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'helpers.lua'))

local root = H.fixture('polyglot')
vim.fn.chdir(root)
vim.env.TACIT_BIN = H.binary()
vim.env.TACIT_STORE = H.tempdir('tacit-store')
vim.cmd('filetype on')
H.record_notifications()
local wait_note = H.wait_note

-- What the statusline shows at each progress event.
local statuslines = {}

H.test("the README's built-in recipe and statusline snippet run as written", function()
  -- What the statusline shows at each progress event. Defined before the README's
  -- `redrawstatus` (autocommands run in order), which would take the messages first:
  -- vim.lsp.status() hands each one out once.
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function()
      statuslines[#statuslines + 1] = vim.api.nvim_eval_statusline(vim.o.statusline, {}).str
    end,
  })
  H.run_readme_lua('**Built-in `vim.lsp.enable`**')
  H.truthy(vim.tbl_contains(vim.opt.rtp:get(), H.plugin_dir), 'the plugin is on runtimepath')
  -- Neovim sources plugin/ scripts after init.lua; a script run with -l has to ask.
  vim.cmd.runtime('plugin/tacit.lua')
  vim.cmd(H.readme_block('the statusline, which needs a redraw', 'vim'))
  H.contains(vim.o.statusline, 'v:lua.vim.lsp.status()', 'statusline')
  local redraws = vim.tbl_filter(function(a)
    return a.command == 'redrawstatus'
  end, vim.api.nvim_get_autocmds({ event = 'LspProgress' }))
  H.eq(1, #redraws, 'the statusline is redrawn on LspProgress')
end)

H.test(':help tacit opens the plugin help (doc/tags ships with it)', function()
  vim.cmd('help tacit')
  H.eq('help', vim.bo.buftype, 'buftype')
  H.eq(vim.fs.joinpath(H.plugin_dir, 'doc', 'tacit.txt'), vim.fs.normalize(vim.api.nvim_buf_get_name(0)), 'help file')
  vim.cmd('help :Tacit-restart')
  H.contains(vim.api.nvim_get_current_line(), '*:Tacit-restart*', 'the tag line')
  vim.cmd('helpclose')
end)

H.test('doc/tags is what :helptags makes of doc/tacit.txt', function()
  local dir = H.tempdir('tacit-doc')
  vim.fn.writefile(vim.fn.readfile(vim.fs.joinpath(H.plugin_dir, 'doc', 'tacit.txt')), vim.fs.joinpath(dir, 'tacit.txt'))
  vim.cmd.helptags(vim.fn.fnameescape(dir))
  H.eq(vim.fn.readfile(vim.fs.joinpath(dir, 'tags')), vim.fn.readfile(vim.fs.joinpath(H.plugin_dir, 'doc', 'tags')), 'doc/tags')
end)

H.test('lsp/tacit.lua: cmd from $TACIT_BIN, .git root, every file type', function()
  local config = vim.lsp.config.tacit
  H.eq({ vim.env.TACIT_BIN, 'lsp' }, config.cmd, 'cmd')
  H.eq({ '.git' }, config.root_markers, 'root_markers')
  H.eq(nil, config.filetypes, 'filetypes')
end)

local client
H.test('vim.lsp.enable("tacit") attaches to files of any type in the repository', function()
  client = H.open(root, 'tools/seed.py')
  H.eq(root, client.root_dir, 'root_dir')
  local again = H.open(root, 'CONTRIBUTING.md')
  H.eq(client.id, again.id, 'one server per repository')
end)

H.test('indexing shows by default through vim.notify, and in the README statusline', function()
  wait_note('^tacit: indexing ' .. vim.pesc(root) .. '…$')
  wait_note('^tacit: indexing: done — indexed ' .. vim.pesc(root))
  local shown
  for _, line in ipairs(statuslines) do
    if line:find('indexing', 1, true) and line:find('%d+%%') then
      shown = line
    end
  end
  H.truthy(shown, 'a statusline with the indexing progress among:\n' .. table.concat(statuslines, '\n'))
end)

H.test(':Tacit remember and the Lua API work without setup()', function()
  vim.cmd('Tacit remember Release branches are cut from main every second Thursday')
  wait_note('^tacit: remembered ')
  local err, r = H.await(require('tacit').recall, 'when are release branches cut?')
  H.eq(nil, err, 'recall error')
  H.eq('Release branches are cut from main every second Thursday', r.entries[1].entry.text, 'top hit')
end)

H.finish()
