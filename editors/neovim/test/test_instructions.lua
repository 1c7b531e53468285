-- Instruction files in Neovim: an AGENTS.md whose rules contradict its repository shows
-- tacit's findings through vim.diagnostic, the "open an example" code action opens the file
-- that shows the measured value, and `:Tacit write {format}` previews a diff and writes
-- only once confirmed.

local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)), 'helpers.lua'))

local root = H.fixture('instructions/contradicted')
H.setup(root)
local buf

--- tacit's diagnostics of a buffer as `line:code` (0-based lines), sorted.
local function codes(b)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(b)) do
    if d.source == 'tacit' then
      out[#out + 1] = ('%d:%s'):format(d.lnum, tostring(d.code))
    end
  end
  table.sort(out)
  return out
end

--- Answers the next vim.ui.select with `choice`; returns the prompts it was asked.
local function answer_select(choice)
  local asked = {}
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    asked[#asked + 1] = opts.prompt
    vim.ui.select = select
    on_choice(vim.tbl_contains(items, choice) and choice or nil)
  end
  return asked
end

H.test('the findings of AGENTS.md show through vim.diagnostic', function()
  local from = #H.progress
  local _
  _, buf = H.open(root, 'AGENTS.md')
  H.wait_indexed(nil, from)
  H.wait(function()
    return #codes(buf) == 5
  end, 'five tacit diagnostics in AGENTS.md, got ' .. vim.inspect(codes(buf)))
  H.eq({ '4:packageManager', '5:indentation', '6:command', '7:command', '8:path' }, codes(buf), 'diagnostics')
  local manager = vim.diagnostic.get(buf, { lnum = 4 })[1]
  H.eq(vim.diagnostic.severity.WARN, manager.severity, 'severity')
  H.contains(manager.message, '`pnpm-lock.yaml` is checked in', 'message')
end)

H.test('the "open an example" code action opens the file that shows the measured value', function()
  vim.api.nvim_set_current_buf(buf)
  -- On the indentation rule: the example is a TypeScript file indented the measured way.
  vim.api.nvim_win_set_cursor(0, { 6, 2 })
  local titles = {}
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      titles[#titles + 1] = action.title
      return vim.startswith(action.title, 'Open an example: src/')
    end,
  })
  H.wait(function()
    return vim.api.nvim_buf_get_name(0):match('/src/cart%.ts$') ~= nil
  end, 'the example src/cart.ts to open')
  H.eq(2, vim.api.nvim_win_get_cursor(0)[1], 'at the example line')
  H.truthy(vim.list_contains(titles, 'Replace with `2 spaces` (what the repository shows)'), 'a replacement too: ' .. table.concat(titles, ' | '))
  vim.api.nvim_set_current_buf(buf)
end)

H.test(':Tacit write completes the formats and refuses an unknown one', function()
  local commands = require('tacit.commands')
  H.eq({ 'agents', 'claude', 'copilot', 'cursor', 'windsurf' }, commands.complete('', 'Tacit write ', 0), 'formats')
  H.eq({ 'cursor' }, commands.complete('cu', 'Tacit write cu', 0), 'prefix')
  H.eq({ '--dry-run' }, commands.complete('--d', 'Tacit write --d', 0), 'flags')
  local from = #H.notifications
  vim.cmd('Tacit write vim')
  H.wait_note('usage: :Tacit write', vim.log.levels.ERROR, from)
end)

H.test(':Tacit write claude shows the diff, and declining writes nothing', function()
  local claude = vim.fs.joinpath(root, 'CLAUDE.md')
  local from = #H.notifications
  local asked = answer_select('Cancel')
  vim.cmd('Tacit write claude')
  H.wait_note('^tacit: nothing written', vim.log.levels.INFO, from)
  H.contains(asked[1] or '', 'would create CLAUDE.md', 'the question')
  local lines = H.scratch('write/claude')
  H.contains(lines, '--- /dev/null', 'diff of a new file')
  H.contains(lines, '+<!-- tacit:begin -->', 'the section tacit writes')
  H.eq(0, vim.fn.filereadable(claude), 'CLAUDE.md not written')
  H.close_scratch()
end)

H.test(':Tacit write agents writes after confirmation, keeps the hand-written text, and says what conflicts', function()
  vim.api.nvim_set_current_buf(buf)
  local agents = vim.fs.joinpath(root, 'AGENTS.md')
  local before = table.concat(vim.fn.readfile(agents, 'b'), '\n')
  local from = #H.notifications
  local asked = answer_select('Write')
  vim.cmd('Tacit write agents')
  local note = H.wait_note('^tacit: updated AGENTS.md', vim.log.levels.INFO, from)
  H.contains(asked[1] or '', 'would update AGENTS.md', 'the question')
  H.contains(note.msg, 'left out a rule that AGENTS.md:5 contradicts', 'the conflict')
  local lines = H.scratch('write/agents')
  H.contains(lines, '--- a/AGENTS.md', 'diff against the file on disk')
  local after = table.concat(vim.fn.readfile(agents, 'b'), '\n')
  H.truthy(vim.startswith(after, (before:gsub('<!%-%- tacit:begin %-%->.*$', ''))), 'hand-written text kept')
  H.truthy(after ~= before, 'tacit section rewritten')
  H.close_scratch()
  -- A second run: nothing to change, nothing asked.
  from = #H.notifications
  vim.api.nvim_set_current_buf(buf)
  vim.cmd('Tacit write agents')
  H.wait_note('up to date', vim.log.levels.INFO, from)
  H.eq(after, table.concat(vim.fn.readfile(agents, 'b'), '\n'), 'idempotent')
end)

H.finish()
