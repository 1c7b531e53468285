-- A first start without the binary, in a directory that is not a git repository, with the
-- README's built-in recipe: opening a file says the binary is missing and where it was
-- looked for (not "call setup()"), `:checkhealth tacit` too; once it is installed,
-- `:Tacit restart` starts the server; and outside a repository `:Tacit context` and
-- `:Tacit reindex` give the same answer.

local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'helpers.lua'))

local scratch = assert(vim.uv.fs_realpath(H.tempdir('tacit-scratch')))
vim.fn.writefile({ 'scratch notes' }, vim.fs.joinpath(scratch, 'notes.txt'))
vim.fn.chdir(scratch)
local bin = H.binary()
-- No binary anywhere the plugin looks.
vim.env.TACIT_BIN = nil
vim.env.PATH = H.path_without_tacit()
local target = H.tempdir('tacit-empty-target')
vim.env.CARGO_TARGET_DIR = target
vim.env.TACIT_STORE = H.tempdir('tacit-store')
vim.cmd('filetype on')
H.record_notifications()
local notes = H.notifications
local wait_note = H.wait_note

H.run_readme_lua('**Built-in `vim.lsp.enable`**')
vim.cmd.runtime('plugin/tacit.lua')

local function says_where_it_looked(msg)
  H.contains(msg, 'the tacit binary was not found', 'message')
  H.contains(msg, '`tacit` on $PATH', 'message')
  H.contains(msg, vim.fs.joinpath(target, 'release', 'tacit'), 'message')
  H.contains(msg, vim.fs.joinpath(target, 'debug', 'tacit'), 'message')
  H.contains(msg, 'cargo install --path server', 'message')
  H.contains(msg, 'scripts/package', 'message')
  H.truthy(not msg:find('setup()', 1, true), 'no advice to call setup() in: ' .. msg)
end

H.test('opening a file without the binary says where it was looked for and how to install it', function()
  vim.cmd.edit('notes.txt')
  local note = wait_note('^tacit: the tacit binary was not found', vim.log.levels.WARN)
  says_where_it_looked(note.msg)
  H.eq(0, #vim.lsp.get_clients({ name = 'tacit' }), 'no client')
end)

H.test(':Tacit context without the binary says the same', function()
  local from = #notes
  vim.cmd('Tacit context')
  says_where_it_looked(wait_note('binary was not found', vim.log.levels.ERROR, from).msg)
end)

H.test(':checkhealth tacit reports the missing binary and how to install it', function()
  local text = H.health()
  H.contains(text, 'ERROR the tacit binary was not found', 'health report')
  H.contains(text, 'cargo install --path server', 'health report')
  vim.cmd('tabclose')
end)

local client
H.test(':Tacit restart finds a binary installed since and starts the server', function()
  vim.env.TACIT_BIN = bin
  local from = #notes
  vim.cmd('Tacit restart')
  wait_note('^tacit: restarted the server %(client %d+, no repository%)', vim.log.levels.INFO, from)
  client = vim.lsp.get_clients({ name = 'tacit', bufnr = vim.api.nvim_get_current_buf() })[1]
  H.truthy(client and client.initialized, 'a client attached to notes.txt')
  H.eq(nil, client.root_dir, 'no repository root')
end)

local outside = vim.pesc(scratch .. ' is not in a git repository, so there is nothing to index')
H.test('outside a repository, :Tacit context and :Tacit reindex give the same answer', function()
  vim.cmd('Tacit context')
  local lines = H.scratch('context')
  local text = table.concat(lines, '\n')
  H.truthy(text:find(outside), 'the context says why there is nothing indexed:\n' .. text)
  H.truthy(not text:find('tacit index', 1, true), 'no advice to run `tacit index`:\n' .. text)
  H.close_scratch()
  local from = #notes
  vim.cmd('Tacit reindex')
  local note = wait_note(outside, vim.log.levels.WARN, from)
  H.truthy(not note.msg:find('no workspace folder', 1, true), note.msg)
  for i = from + 1, #notes do
    H.truthy(notes[i].level < vim.log.levels.ERROR, 'no error: ' .. notes[i].msg)
  end
end)

H.finish()
