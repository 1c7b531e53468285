-- Registers `:Tacit` and the indexing progress messages. Everything else loads on first
-- use, so start-up cost is one command and one autocommand.
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
  desc = 'tacit: context, remember, recall, memories, forget, export, status, reindex, restart, write',
  complete = function(arglead, cmdline, pos)
    return require('tacit.commands').complete(arglead, cmdline, pos)
  end,
})

-- Indexing progress through vim.notify by default (`progress` in setup(), or
-- `vim.g.tacit_progress = false` to leave it to fidget.nvim or a statusline).
vim.api.nvim_create_autocmd('LspProgress', {
  group = vim.api.nvim_create_augroup('tacit.progress', { clear = true }),
  desc = 'tacit: indexing progress',
  callback = function(ev)
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    if client and client.name == 'tacit' then
      require('tacit').on_progress(ev)
    end
  end,
})
