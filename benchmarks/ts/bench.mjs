// Throughput of the official TypeScript SDK (@polar-sh/sdk) against the
// benchmark server: N concurrent promise chains on one Node thread, each
// awaiting one call after the other, no retries. The SDK validates and
// converts every response with its zod schemas, as its users get it.
//
// usage: node bench.mjs --url URL --token TOK --meter-id ID --op get|quantities|events
//                       [--start TS --end TS] [--concurrency N] [--duration S] [--warmup S]
// HTTPS with a self-signed certificate: NODE_EXTRA_CA_CERTS=cert.pem.
// Prints "rps R requests N seconds S".
import { Polar } from "@polar-sh/sdk";

function parseArgs(argv) {
    const out = {};
    for (let i = 0; i < argv.length; i += 2) {
        if (!argv[i].startsWith("--")) throw new Error(`unexpected argument ${argv[i]}`);
        out[argv[i].slice(2)] = argv[i + 1];
    }
    return out;
}

const args = parseArgs(process.argv.slice(2));
const concurrency = Number(args.concurrency ?? 1);
const duration = Number(args.duration ?? 1) * 1000;
const warmup = Number(args.warmup ?? 0.3) * 1000;
const id = args["meter-id"];

const polar = new Polar({ accessToken: args.token, serverURL: args.url, retryConfig: { strategy: "none" } });

let call;
if (args.op === "get") {
    call = async () => (await polar.meters.get({ id })).id.length;
} else if (args.op === "quantities") {
    const request = {
        id,
        startTimestamp: new Date(args.start),
        endTimestamp: new Date(args.end),
        interval: "hour",
    };
    call = async () => (await polar.meters.quantities(request)).quantities.length;
} else if (args.op === "events") {
    call = async () => (await polar.meters.events({ id, limit: 100 })).result.items.length;
} else {
    throw new Error(`bad --op ${args.op}`);
}

let stop = false;
let done = 0;
async function worker() {
    while (!stop) {
        if ((await call()) === 0) throw new Error("empty response");
        ++done;
    }
}

const workers = Array.from({ length: concurrency }, worker);
await new Promise((r) => setTimeout(r, warmup));
const start = done;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, duration));
const n = done - start;
const secs = (performance.now() - t0) / 1000;
stop = true;
await Promise.all(workers);
console.log(`rps ${n / secs} requests ${n} seconds ${secs}`);
process.exit(0);
