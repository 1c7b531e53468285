// The team store's container as an Azure Blob client sees it, for the end-to-end tests.
//
//     node container.cjs ENDPOINT create CONTAINER
//     node container.cjs ENDPOINT grep CONTAINER NEEDLE   // {"objects": n, "hits": [names holding NEEDLE]}
//
// ENDPOINT is Azurite's blob endpoint; the account is Azurite's well-known development one.

// CommonJS, so that NODE_PATH (the install's node_modules) resolves the package.
const { BlobServiceClient, StorageSharedKeyCredential } = require("@azure/storage-blob");

const ACCOUNT = "devstoreaccount1";
const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const [endpoint, command, container, needle] = process.argv.slice(2);
const service = new BlobServiceClient(
  `${endpoint}/${ACCOUNT}`,
  new StorageSharedKeyCredential(ACCOUNT, KEY),
);
const client = service.getContainerClient(container);

async function main() {
  if (command === "create") {
    await client.create();
  } else if (command === "grep") {
    const wanted = Buffer.from(needle);
    let objects = 0;
    const hits = [];
    for await (const blob of client.listBlobsFlat()) {
      objects += 1;
      const body = await client.getBlobClient(blob.name).downloadToBuffer();
      if (body.includes(wanted)) hits.push(blob.name);
    }
    console.log(JSON.stringify({ objects, hits }));
  } else {
    console.error(`unknown command ${command}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
