-- Without setup(): the `lsp/tacit.lua` config alone, with `vim.lsp.enable('tacit')`, finds
-- the binary through $TACIT_BIN, attaches with the `.git` root, and `:Tacit` works.

local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'helpers.lua'))

local root = H.fixture('polyglot')
vim.fn.chdir(root)
vim.env.TACIT_BIN = H.binary()
vim.env.TACIT_STORE = H.tempdir('tacit-store')
vim.opt.runtimepath:prepend(H.plugin_dir)
vim.cmd('filetype on')
vim.cmd.runtime('plugin/tacit.lua')
local notes = {}
vim.notify = function(msg, level)
  notes[#notes + 1] = { msg = msg, level = level or vim.log.levels.INFO }
end

H.test('lsp/tacit.lua: cmd from $TACIT_BIN, .git root, every file type', function()
  local config = vim.lsp.config.tacit
  H.eq({ vim.env.TACIT_BIN, 'lsp' }, config.cmd, 'cmd')
  H.eq({ '.git' }, config.root_markers, 'root_markers')
  H.eq(nil, config.filetypes, 'filetypes')
end)

H.test('vim.lsp.enable("tacit") attaches to files of any type in the repository', function()
  vim.lsp.config('tacit', { init_options = { indexOnStartup = false } })
  vim.lsp.enable('tacit')
  local client = H.open(root, 'tools/seed.py')
  H.eq(root, client.root_dir, 'root_dir')
  local again = H.open(root, 'CONTRIBUTING.md')
  H.eq(client.id, again.id, 'one server per repository')
end)

H.test(':Tacit remember and the Lua API work without setup()', function()
  vim.cmd('Tacit remember Python tools are formatted with black')
  H.wait(function()
    for _, n in ipairs(notes) do
      if n.msg:find('^tacit: remembered ') then
        return true
      end
    end
  end, 'the remembered notification')
  local err, r = H.await(require('tacit').recall, 'how are python tools formatted?')
  H.eq(nil, err, 'recall error')
  H.eq('Python tools are formatted with black', r.entries[1].entry.text, 'top hit')
end)

H.finish()
