-- Registers `:Tacit`. Everything else loads on first use, so start-up cost is one command.
-- The language server itself is enabled by `require('tacit').setup()` or
-- `vim.lsp.enable('tacit')` (see :help tacit-setup).

if vim.g.loaded_tacit then
  return
end
vim.g.loaded_tacit = true

if vim.fn.has('nvim-0.11') == 0 then
  vim.api.nvim_create_user_command('Tacit', function()
    vim.notify('tacit: needs Neovim 0.11 or newer', vim.log.levels.ERROR)
  end, { nargs = '*' })
  return
end

vim.api.nvim_create_user_command('Tacit', function(cmd)
  require('tacit.commands').run(cmd)
end, {
  nargs = '*',
  range = true,
  desc = 'tacit: context, remember, recall, memories, forget, export, status, reindex',
  complete = function(arglead, cmdline, pos)
    return require('tacit.commands').complete(arglead, cmdline, pos)
  end,
})
