// Conformance of the emulator with the seed-era contract (2025-03,
// shared/spec/MeterAPI.md), driven by the official TypeScript SDK
// @polar-sh/sdk 0.32.4 (installed as the alias polar-sdk-0-32). Run it against
// an emulator started with --api-version 2025-03: this SDK sends no
// Polar-Version header.
//
//   node check_2025_03.mjs --url http://127.0.0.1:PORT --token TOKEN [--only NAME]
//
// The token needs meters:read, meters:write and events:write (the emulator's
// default token). This SDK validates every response with its zod schemas;
// the raw bodies are checked here as well, key by key, against the spec.
// One line per check; exit status 1 when any check fails.
import {
    eq, expectStatus, installRecorder, last, makeRunner, need, ok, parseArgs, sameInstant, validateEvent, validateList,
    validateMeter, validateQuantities, fail,
} from "./lib.mjs";

const args = parseArgs(process.argv.slice(2));
installRecorder();
const { Polar } = await import("polar-sdk-0-32");
const polar = new Polar({ accessToken: args.token, serverURL: args.url, retryConfig: { strategy: "none" }, timeoutMs: 30000 });
const { check, finish } = makeRunner(args.only);

const V = "2025-03";
const tag = `ts${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const N_A = `${tag}.llm.call`;
const N_B = `${tag}.api.request`;
const HOUR = 3600e3;
const DAY = 24 * HOUR;
const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");
const now = new Date();
const T0 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 2);
const S = {};

function expectOk(status) {
    const x = last();
    if (x.status !== status) fail(`expected HTTP ${status}, got ${x.status}`);
    return JSON.parse(x.text);
}

await check("events.ingest: 4 events by external customer id -> {\"inserted\":4}", async () => {
    const r = await polar.events.ingest({
        events: [
            { name: N_A, externalCustomerId: `${tag}-a`, timestamp: new Date(T0 + HOUR), metadata: { tokens: 100, model: "lite" } },
            { name: N_A, externalCustomerId: `${tag}-b`, timestamp: new Date(T0 + 1.5 * HOUR), metadata: { tokens: 50, model: "pro" } },
            { name: N_A, externalCustomerId: `${tag}-a`, timestamp: new Date(T0 + 23.5 * HOUR), metadata: { tokens: 30, model: "lite", ok: true } },
            { name: N_B, externalCustomerId: `${tag}-b`, timestamp: new Date(T0 + 25 * HOUR), metadata: { status: 200 } },
        ],
    });
    eq(expectOk(200), { inserted: 4 }, "EventsIngestResponse");
    eq(r.inserted, 4, "inserted");
    eq(last().requestHeaders.get("polar-version"), null, "request header Polar-Version (0.32.4 sends none)");
    S.ingested = true;
});

const nameFilter = (...names) => ({
    conjunction: "or",
    clauses: names.map((n) => ({ property: "name", operator: "eq", value: n })),
});

async function createMeter(body, what) {
    const m = await polar.meters.create(body);
    const raw = expectOk(201);
    validateMeter(raw, what, V);
    eq(raw.name, body.name, `${what}.name`);
    eq(raw.filter, body.filter, `${what}.filter`);
    eq(raw.aggregation, body.aggregation, `${what}.aggregation`);
    eq(raw.metadata, body.metadata ?? {}, `${what}.metadata`);
    eq(raw.modified_at, null, `${what}.modified_at`);
    ok(m.createdAt instanceof Date, "the SDK's createdAt is a Date");
    return raw;
}

await check("meters.create: count meter -> 201, the 2025-03 Meter keys only", async () => {
    S.count = await createMeter({ name: `${tag} calls`, filter: nameFilter(N_A, N_B), aggregation: { func: "count" }, metadata: { team: "ts", rank: 3 } }, "Meter");
});

await check("meters.create: sum meter with a nested filter -> 201", async () => {
    S.sum = await createMeter({
        name: `${tag} tokens`,
        filter: {
            conjunction: "and",
            clauses: [
                { property: "name", operator: "eq", value: N_A },
                { conjunction: "or", clauses: [{ property: "model", operator: "eq", value: "lite" }, { property: "model", operator: "eq", value: "pro" }] },
            ],
        },
        aggregation: { func: "sum", property: "tokens" },
        metadata: { team: "core", billable: true },
    }, "Meter");
});

await check("meters.get: returns the created meter; no Polar-Version header on the response", async () => {
    const m = need(S.sum, "the sum meter");
    const got = await polar.meters.get({ id: m.id });
    eq(expectOk(200), m, "meter");
    eq(got.id, m.id, "SDK id");
    eq(last().headers.get("polar-version"), null, "response header Polar-Version");
});

await check("meters.get: unknown id -> 404 ResourceNotFound", async () => {
    const { error, body } = await expectStatus(404, () => polar.meters.get({ id: crypto.randomUUID() }), "unknown meter");
    eq(error.name, "ResourceNotFound", "SDK error class");
    eq(body, { error: "ResourceNotFound", detail: "Not found" }, "body");
});

await check("meters.update: name and metadata -> 200", async () => {
    const m = need(S.sum, "the sum meter");
    await polar.meters.update({ id: m.id, meterUpdate: { name: `${tag} tokens!`, metadata: { team: "core", tier: 2 } } });
    const raw = expectOk(200);
    validateMeter(raw, "Meter", V);
    eq(raw.name, `${tag} tokens!`, "name");
    eq(raw.metadata, { team: "core", tier: 2 }, "metadata");
    eq(raw.filter, m.filter, "filter");
    S.sum = raw;
});

await check("meters.update: filter of a meter that already aggregates events -> 422 forbidden", async () => {
    const m = need(S.count, "the count meter");
    const { error, body } = await expectStatus(422, () => polar.meters.update({ id: m.id, meterUpdate: { filter: nameFilter(N_B) } }), "locked filter");
    eq(error.name, "HTTPValidationError", "SDK error class");
    eq(body?.detail?.[0]?.type, "forbidden", "detail[0].type");
    eq(body?.detail?.[0]?.loc, ["body", "filter"], "detail[0].loc");
});

await check("meters.list: query, sorting, metadata filter", async () => {
    need(S.count && S.sum, "the meters");
    const r = await polar.meters.list({ query: tag });
    validateList(expectOk(200), (m, w) => validateMeter(m, w, V), "ListResource_Meter_");
    eq(r.result.items.map((m) => m.id), [S.count.id, S.sum.id], "ids by name");
    eq(r.result.pagination, { totalCount: 2, maxPage: 1 }, "pagination");
    const d = await polar.meters.list({ query: tag, sorting: ["-name"] });
    eq(d.result.items.map((m) => m.id), [S.sum.id, S.count.id], "ids by -name");
    const md = await polar.meters.list({ query: tag, metadata: { tier: 2 } });
    eq(new URL(last().url).searchParams.get("metadata[tier]"), "2", "query parameter metadata[tier]");
    eq(md.result.items.map((m) => m.id), [S.sum.id], "metadata[tier]=2");
});

await check("meters.list: paging; a page past the end reports total 0 (2025-03)", async () => {
    need(S.count && S.sum, "the meters");
    const p2 = await polar.meters.list({ query: tag, limit: 1, page: 2 });
    eq(p2.result.items.map((m) => m.id), [S.sum.id], "page 2 of 1");
    eq(p2.result.pagination, { totalCount: 2, maxPage: 2 }, "pagination");
    await polar.meters.list({ query: tag, limit: 1, page: 5 });
    eq(expectOk(200), { items: [], pagination: { total_count: 0, max_page: 0 } }, "past the end");
});

await check("meters.events: the meter's events, newest first, 2025-03 Event keys only", async () => {
    const m = need(S.count, "the count meter");
    const r = await polar.meters.events({ id: m.id });
    validateList(expectOk(200), (e, w) => validateEvent(e, w, V), "ListResource_Event_");
    const items = r.result.items;
    eq(items.map((e) => e.timestamp.getTime()), [T0 + 25 * HOUR, T0 + 23.5 * HOUR, T0 + 1.5 * HOUR, T0 + HOUR], "timestamps");
    eq(items.map((e) => e.externalCustomerId), [`${tag}-b`, `${tag}-a`, `${tag}-b`, `${tag}-a`], "external_customer_id");
    ok(items.every((e) => e.source === "user" && e.customerId === null && e.customer === null), "source user, no customer");
    eq(items[1].metadata, { tokens: 30, model: "lite", ok: true }, "metadata");
    eq(r.result.pagination, { totalCount: 4, maxPage: 1 }, "pagination");
});

await check("meters.events: paging and the aggregation's type guard", async () => {
    const m = need(S.count, "the count meter");
    const p = await polar.meters.events({ id: m.id, limit: 3, page: 2 });
    eq(p.result.items.map((e) => e.timestamp.getTime()), [T0 + HOUR], "page 2 of 3");
    eq(p.result.pagination, { totalCount: 4, maxPage: 2 }, "pagination");
    const s = await polar.meters.events({ id: need(S.sum, "the sum meter").id, limit: 100 });
    eq(s.result.items.length, 3, "events of the sum meter");
});

async function quantities(meter, query, expected, what) {
    const m = need(meter, "the meter");
    const q = await polar.meters.quantities({ id: m.id, ...query });
    const raw = expectOk(200);
    validateQuantities(raw, "MeterQuantities", V);
    eq(raw.quantities.length, expected.length, `${what}: number of points`);
    raw.quantities.forEach((p, i) => {
        sameInstant(p.timestamp, iso(expected[i][0]), `${what}: quantities[${i}].timestamp`);
        eq(p.quantity, expected[i][1], `${what}: quantities[${i}].quantity`);
    });
    eq(q.quantities.length, expected.length, "SDK quantities");
}
const days = { startTimestamp: new Date(T0), endTimestamp: new Date(T0 + 2 * DAY), interval: "day" };

await check("meters.quantities: count per day, no total", async () => {
    await quantities(S.count, days, [[T0, 3], [T0 + DAY, 1], [T0 + 2 * DAY, 0]], "count/day");
});

await check("meters.quantities: sum per hour", async () => {
    await quantities(S.sum, { startTimestamp: new Date(T0), endTimestamp: new Date(T0 + 2 * HOUR), interval: "hour" },
        [[T0, 0], [T0 + HOUR, 150], [T0 + 2 * HOUR, 0]], "sum/hour");
});

await check("meters.quantities: external_customer_id and customer_id filters", async () => {
    await quantities(S.sum, { ...days, externalCustomerId: `${tag}-a` }, [[T0, 130], [T0 + DAY, 0], [T0 + 2 * DAY, 0]], "external_customer_id");
    await quantities(S.count, { ...days, externalCustomerId: [`${tag}-a`, `${tag}-b`] }, [[T0, 3], [T0 + DAY, 1], [T0 + 2 * DAY, 0]], "two external_customer_id");
    await quantities(S.count, { ...days, customerId: crypto.randomUUID() }, [[T0, 0], [T0 + DAY, 0], [T0 + 2 * DAY, 0]], "unknown customer_id");
});

await check("meters.quantities: end before start -> empty list (2025-03)", async () => {
    await quantities(S.count, { startTimestamp: new Date(T0 + DAY), endTimestamp: new Date(T0), interval: "day" }, [], "end before start");
});

await check("meters.quantities: range too big -> 422", async () => {
    const m = need(S.count, "the count meter");
    const { error, body } = await expectStatus(422, () => polar.meters.quantities({ id: m.id, startTimestamp: new Date(T0 - 10 * DAY), endTimestamp: new Date(T0), interval: "hour" }), "hour over 10 days");
    eq(error.name, "HTTPValidationError", "SDK error class");
    eq(body?.detail?.[0]?.msg, "The interval is too big. Try to change the interval or reduce the date range.", "detail[0].msg");
});

finish();
