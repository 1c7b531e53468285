-- Configuration of the tacit language server for Neovim's built-in LSP client
-- (`vim.lsp.config` / `vim.lsp.enable('tacit')`, Neovim 0.11+).
--
-- tacit serves every file type: conventions, workflows and memories are about the whole
-- repository, so `filetypes` is left unset and the client attaches to any buffer with a
-- file type inside a `.git` root. Override any field with `vim.lsp.config('tacit', {...})`.

local tacit = require('tacit')

---@type vim.lsp.Config
return {
  -- Resolved when this file is loaded: `setup({cmd=...})`, `$TACIT_BIN`, `tacit` on PATH,
  -- then a build of a source checkout in `${CARGO_TARGET_DIR:-~/.cache/tacit/target}`.
  -- Without a binary, a function that says where it looked when a server is to start.
  cmd = tacit.lsp_cmd(),
  root_markers = { '.git' },
  -- Outside a repository the server still works: memories go to a `dir:` scope.
  workspace_required = false,
  -- See `:help tacit-configuration`; every option is optional.
  init_options = {},
  -- A server that ends by itself is reported with its exit code and last log line.
  on_exit = function(code, signal, client_id)
    tacit.on_exit(code, signal, client_id)
  end,
}
