"""Drives `tacit mcp` with the official Python MCP client (PyPI `mcp`), as a copilot would.

Run by tests/e2e/mcp.rs with the client installed by tests/mcp/install on PYTHONPATH:

    python_client.py TACIT_BIN STORE REPO CWD

The server starts in CWD (not a repository) and learns the workspace REPO from the client's
roots. Each step prints one line; any failed expectation raises, so the exit code says it all.
Waits end on protocol events (the `resources/list_changed` after the index run), bounded by
timeouts, never on sleeps.
"""

import os
import sys
from pathlib import Path

import anyio
import mcp_types as types
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters

TOOLS = {
    "assemble_context", "recall", "remember", "extract", "update", "forget", "restore",
    "pin", "unpin", "list", "get", "status", "reindex",
}
PATIENCE = 180


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def text_of(result):
    return "".join(c.text for c in result.content if getattr(c, "type", None) == "text")


async def main(tacit, store, repo, cwd):
    indexed = anyio.Event()

    async def on_message(message):
        if isinstance(message, types.ResourceListChangedNotification):
            indexed.set()
        elif isinstance(message, Exception):
            print(f"client saw: {message!r}", file=sys.stderr)

    async def roots(_context):
        return types.ListRootsResult(roots=[types.Root(uri=Path(repo).as_uri(), name="fixture")])

    env = dict(os.environ, TACIT_STORE=store, TACIT_LOG="tacit=debug")
    server = StdioServerParameters(command=tacit, args=["mcp"], env=env, cwd=cwd)
    async with Client(server, list_roots_callback=roots, message_handler=on_message) as client:
        # The default mode probes `server/discover` first; tacit speaks the session revisions,
        # so the client falls back to `initialize` at the newest of them.
        check(client.protocol_version == "2025-11-25", f"negotiated {client.protocol_version}")
        check(client.server_info.name == "tacit", f"server info {client.server_info}")
        check("assemble_context" in (client.instructions or ""), f"instructions: {client.instructions!r}")
        print(f"initialized: protocol {client.protocol_version}, {client.server_info.name} {client.server_info.version}")

        listed = await client.list_tools()
        tools = {t.name: t for t in listed.tools}
        check(set(tools) == TOOLS, f"tools: {sorted(tools)}")
        for tool in tools.values():
            check(tool.input_schema.get("type") == "object", f"{tool.name} input schema {tool.input_schema}")
            check(tool.output_schema and tool.output_schema.get("type") == "object", f"{tool.name} output schema")
            check(tool.description and len(tool.description) > 40, f"{tool.name} description")
        check(tools["remember"].input_schema.get("required") == ["text"], tools["remember"].input_schema)
        check("query" in tools["assemble_context"].input_schema["properties"], "assemble_context has query")
        check(tools["assemble_context"].annotations.read_only_hint is True, "assemble_context is read-only")
        check(tools["forget"].annotations.destructive_hint is True, "forget is destructive")
        check(tools["update"].annotations.idempotent_hint is True, "update is idempotent")
        print(f"tools/list: {len(tools)} tools with input and output schemas and annotations")

        # The first change of the store comes from indexing the client's root; `reindex` with a
        # progress token runs after that start-up run (one run at a time) and answers when done.
        with anyio.fail_after(PATIENCE):
            await indexed.wait()
        progress = []

        async def on_progress(done, total, message):
            progress.append((done, total, message))

        reindexed = await client.call_tool("reindex", {}, progress_callback=on_progress)
        check(not reindexed.is_error and reindexed.structured_content["finished"], text_of(reindexed))
        check(reindexed.structured_content["roots"] == [str(Path(repo).resolve())], reindexed.structured_content)
        check(progress and all(total == 100 for _, total, _ in progress), f"progress: {progress}")
        check("files" in text_of(reindexed), text_of(reindexed))
        print(f"reindex of the client's root: {len(progress)} progress notifications, then the summary")

        context = await client.call_tool(
            "assemble_context",
            {"query": "which async runtime do we use and what must I run before committing?"},
        )
        check(not context.is_error, text_of(context))
        memories = context.structured_content["memories"]
        check(
            any(m["entry"].get("key") == "stack.async_runtime" and m["entry"].get("value") == "tokio" for m in memories),
            f"no tokio runtime convention in {memories}",
        )
        check("tokio" in text_of(context), text_of(context))
        check("cargo test --workspace" in text_of(context), text_of(context))
        print("assemble_context: the fixture's tokio convention in structuredContent and in the text")

        remembered = await client.call_tool(
            "remember", {"text": "Prefer pull requests of under 300 changed lines", "key": "review.size"}
        )
        check(not remembered.is_error, text_of(remembered))
        entry_id = remembered.structured_content["entry"]["id"]
        check(entry_id in text_of(remembered), text_of(remembered))
        recalled = await client.call_tool("recall", {"query": "how large may a pull request be?"})
        check(not recalled.is_error, text_of(recalled))
        check(any(e["entry"]["id"] == entry_id for e in recalled.structured_content["entries"]), recalled.structured_content)
        forgotten = await client.call_tool("forget", {"id": entry_id})
        check(not forgotten.is_error and forgotten.structured_content == {"forgotten": entry_id}, text_of(forgotten))
        recalled = await client.call_tool("recall", {"query": "how large may a pull request be?"})
        check(all(e["entry"]["id"] != entry_id for e in recalled.structured_content["entries"]), "forgotten entry recalled")
        missing = await client.call_tool("get", {"id": entry_id})
        check(missing.is_error and entry_id in text_of(missing), text_of(missing))
        print(f"remember -> recall -> forget: {entry_id} found, then gone")

        resources = await client.list_resources()
        uris = [r.uri for r in resources.resources]
        check("tacit://context" in uris, uris)
        check("tacit://conventions/rust" in uris, uris)
        templates = await client.list_resource_templates()
        check("tacit://context/{path}" in [t.uri_template for t in templates.resource_templates], templates)
        read = await client.read_resource("tacit://context")
        check("tokio" in read.contents[0].text, read.contents[0].text)
        read = await client.read_resource("tacit://context/src/main.rs")
        check("tokio" in read.contents[0].text, read.contents[0].text)
        memory_uri = next(u for u in uris if u.startswith("tacit://memory/"))
        read = await client.read_resource(memory_uri)
        check(memory_uri.rsplit("/", 1)[1] in read.contents[0].text, read.contents[0].text)
        print(f"resources: {len(uris)} listed; context, context of a file and a memory read")

        prompts = await client.list_prompts()
        check([p.name for p in prompts.prompts] == ["project-conventions"], prompts)
        prompt = await client.get_prompt("project-conventions", {"task": "add a pricing endpoint"})
        message = prompt.messages[0].content.text
        check("add a pricing endpoint" in message and "example.com/inventory/pricing" in message, message)
        print("prompts/get project-conventions: the assembled context for the task")


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:5])
    print("python client: all steps passed")
