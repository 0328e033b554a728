// Conformance of the emulator with API version 2026-10, driven by the official
// TypeScript SDK @polar-sh/sdk 1.0.1 (createPolar from "@polar-sh/sdk/2026-10").
// Contract: shared/spec/current/MeterAPI-2026-10.md.
//
//   node check_2026_10.mjs --url http://127.0.0.1:PORT --token TOKEN [--only NAME]
//
// The token needs meters:read, meters:write, events:read or events:write, and
// customer_meters:read; its organization needs at least two customers that
// appear on its events, one of them with an external id (the emulator's
// --seed demo data). Everything this script creates carries a fresh tag, so it
// can run again against the same server. The SDK itself validates no response,
// so every response body is checked here against the spec's wire schema.
// One line per check; exit status 1 when any check fails.
import {
    CheckError, datetime, eq, exchanges, expectStatus, fail, installRecorder, last, lastJson, makeRunner, need, ok,
    parseArgs, sameInstant, uuid4, validateCustomerMeter, validateEvent, validateList, validateMeter,
    validateQuantities,
} from "./lib.mjs";

const args = parseArgs(process.argv.slice(2));
const realFetch = installRecorder();
const { createPolar } = await import("@polar-sh/sdk/2026-10");
const polar = createPolar({ accessToken: args.token, baseUrl: args.url, timeout: 30 });
const { check, finish } = makeRunner(args.only);

const VERSION = "2026-10";
const tag = `ts${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const N_LLM = `${tag}.llm.call`;
const N_API = `${tag}.api.request`;
const N_PARENT = `${tag}.job`;
const N_CHILD = `${tag}.job.step`;
const HOUR = 3600e3;
const DAY = 24 * HOUR;
const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");
const now = new Date();
// T0: UTC midnight two days ago; every event lies in the two days after it.
const T0 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 2);
const randomUuid4 = () => crypto.randomUUID();
const ids = (items) => items.map((x) => x.id);
const S = {}; // state shared between checks

function expectOk(status) {
    const x = last();
    if (x.status !== status) fail(`expected HTTP ${status}, got ${x.status}`);
    return JSON.parse(x.text);
}

// -- transport --------------------------------------------------------------------

await check("meters.list: Polar-Version 2026-10 sent and echoed, list envelope", async () => {
    await polar.meters.list();
    const x = last();
    eq(x.requestHeaders.get("polar-version"), VERSION, "request header Polar-Version");
    eq(x.headers.get("polar-version"), VERSION, "response header Polar-Version");
    const body = expectOk(200);
    validateList(body, validateMeter, "ListResource_Meter_");
});

await check("the SDK's 2026-04 client: Polar-Version 2026-04 sent and echoed", async () => {
    const { createPolar: createPolar2604 } = await import("@polar-sh/sdk/2026-04");
    await createPolar2604({ accessToken: args.token, baseUrl: args.url }).meters.list({ limit: 1 });
    eq(last().requestHeaders.get("polar-version"), "2026-04", "request header Polar-Version");
    eq(last().headers.get("polar-version"), "2026-04", "response header Polar-Version");
    validateList(expectOk(200), validateMeter, "ListResource_Meter_");
});

await check("an unknown Polar-Version gets 404 {\"detail\":\"Not Found\"} without the header", async () => {
    const res = await realFetch(`${args.url}/v1/meters/`, {
        headers: { Authorization: `Bearer ${args.token}`, "Polar-Version": "2025-01" },
    });
    eq(res.status, 404, "status");
    eq(await res.json(), { detail: "Not Found" }, "body");
    eq(res.headers.get("polar-version"), null, "response header Polar-Version");
});

// -- customers of the organization (from the events list) ----------------------------

await check("events.list: events with embedded customers (two customers, one with an external id)", async () => {
    const body = await polar.events.list({ limit: 100 });
    const raw = expectOk(200);
    const customers = new Map();
    for (const e of body.items) if (e.customer) customers.set(e.customer.id, e.customer);
    const withExternal = [...customers.values()].filter((c) => c.external_id);
    ok(withExternal.length >= 1 && customers.size >= 2,
        `the organization needs two customers on its events, one with an external id (found ${customers.size}, ` +
        `${withExternal.length} with an external id); start the emulator with --seed demo`);
    S.c2 = withExternal[0];
    S.c1 = [...customers.values()].find((c) => c.id !== S.c2.id);
    S.org = body.items[0].organization_id;
    validateList(raw, (e, w) => validateEvent(e, w), "ListResource_Event_");
});

// -- ingest -------------------------------------------------------------------------

const batch = () => {
    const c1 = need(S.c1, "two customers");
    const c2 = need(S.c2, "two customers");
    return {
        events: [
            {
                name: N_LLM, timestamp: iso(T0 + HOUR), customer_id: c1.id, member_id: null, external_id: `${tag}-e1`,
                metadata: {
                    _llm: { vendor: "openai", model: "gpt-a", input_tokens: 10, output_tokens: 5, total_tokens: 15 },
                    latency_ms: 12.5, region: "eu",
                },
            },
            {
                name: N_LLM, timestamp: iso(T0 + 1.5 * HOUR), external_customer_id: c2.external_id,
                external_member_id: `${tag}-member`, external_id: `${tag}-e2`,
                metadata: {
                    _llm: {
                        vendor: "anthropic", model: "gpt-b", prompt: "hi", response: "hello", input_tokens: 20,
                        cached_input_tokens: 4, output_tokens: 10, total_tokens: 30,
                    },
                    latency_ms: 7.25, region: "us",
                },
            },
            {
                name: N_LLM, timestamp: iso(T0 + 23.5 * HOUR), customer_id: c1.id, external_id: `${tag}-e3`,
                metadata: {
                    _llm: { vendor: "openai", model: "gpt-a", input_tokens: 40, output_tokens: 5, total_tokens: 45 },
                    region: "eu",
                },
            },
            {
                name: N_API, timestamp: iso(T0 + 25 * HOUR), external_customer_id: c2.external_id,
                external_id: `${tag}-e4`,
                metadata: { status: 200, region: "us", cached: true, _cost: { amount: 0.0125, currency: "usd" } },
            },
        ],
    };
};

await check("events.ingest: 4 events (external_id, _llm, float metadata, external_member_id) -> inserted 4, duplicates 0", async () => {
    await polar.events.ingest(batch());
    S.ingested = true;
    eq(expectOk(200), { inserted: 4, duplicates: 0 }, "EventsIngestResponse");
});

await check("events.ingest: the same batch again -> inserted 0, duplicates 4", async () => {
    need(S.ingested, "the first ingest");
    await polar.events.ingest(batch());
    eq(expectOk(200), { inserted: 0, duplicates: 4 }, "EventsIngestResponse");
});

await check("events.ingest: an external_id repeated inside one batch -> inserted 1, duplicates 1", async () => {
    const e = { name: `${tag}.dup`, external_customer_id: `${tag}-x`, external_id: `${tag}-dup`, timestamp: iso(T0 + 2 * HOUR) };
    await polar.events.ingest({ events: [e, { ...e }] });
    eq(expectOk(200), { inserted: 1, duplicates: 1 }, "EventsIngestResponse");
});

await check("events.ingest: a member_id that is no member of the customer -> 422 member_id", async () => {
    const c1 = need(S.c1, "a customer");
    const { error, body } = await expectStatus(422, () => polar.events.ingest({
        events: [{ name: `${tag}.member`, customer_id: c1.id, member_id: randomUuid4(), timestamp: iso(T0 + HOUR) }],
    }), "unknown member_id");
    eq(error.name, "HTTPValidationError", "SDK error class");
    const d = body?.detail?.[0];
    eq(d?.type, "member_id", "detail[0].type");
    eq(d?.loc, ["body", "events", 0, "member_id"], "detail[0].loc");
});

await check("events.ingest: a timestamp in the future -> 422", async () => {
    const { error } = await expectStatus(422, () => polar.events.ingest({
        events: [{ name: `${tag}.future`, external_customer_id: `${tag}-x`, timestamp: iso(Date.now() + DAY) }],
    }), "future timestamp");
    eq(error.name, "HTTPValidationError", "SDK error class");
});

await check("events.list: name filter finds the ingested events (newest first by default)", async () => {
    need(S.ingested, "the first ingest");
    const r2 = await polar.events.list({ name: N_API });
    const r = await polar.events.list({ name: N_LLM });
    const body = expectOk(200);
    eq(r.items.map((e) => e.timestamp).map(Date.parse), [T0 + 23.5 * HOUR, T0 + 1.5 * HOUR, T0 + HOUR], "timestamps");
    eq(r2.items.length, 1, "events named N_API");
    S.e = { e1: r.items[2], e2: r.items[1], e3: r.items[0], e4: r2.items[0] };
    eq(r.pagination, { total_count: 3, max_page: 1 }, "pagination");
    validateList(body, (e, w) => validateEvent(e, w), "ListResource_Event_");
});

const E = (k) => need(S.e, "the ingested events")[k];

await check("events.get: customer event with _llm and float metadata, all Event fields", async () => {
    const e1 = E("e1");
    const got = await polar.events.get(e1.id);
    const body = expectOk(200);
    validateEvent(body, "Event");
    eq(got.id, e1.id, "id");
    eq(got.name, N_LLM, "name");
    eq(got.source, "user", "source");
    sameInstant(got.timestamp, iso(T0 + HOUR), "timestamp");
    eq(got.customer_id, S.c1.id, "customer_id");
    eq(got.customer?.id, S.c1.id, "customer.id");
    eq(got.external_customer_id, null, "external_customer_id");
    eq(got.metadata, batch().events[0].metadata, "metadata");
    eq(got.member_id, null, "member_id");
    eq(got.parent_id, null, "parent_id");
    eq(got.child_count, 0, "child_count");
    ok(got.label.length > 0, "label: expected a non-empty string");
    eq(got.organization_id, S.org, "organization_id");
});

await check("events.get: external-customer event with external_member_id; customer resolved by external id", async () => {
    const got = await polar.events.get(E("e2").id);
    validateEvent(expectOk(200), "Event");
    eq(got.external_customer_id, S.c2.external_id, "external_customer_id");
    eq(got.external_member_id, `${tag}-member`, "external_member_id");
    eq(got.customer?.id, S.c2.id, "customer.id");
    eq(got.metadata, batch().events[1].metadata, "metadata");
});

await check("events.get: _cost metadata comes back with the amount as a decimal string", async () => {
    const got = await polar.events.get(E("e4").id);
    validateEvent(expectOk(200), "Event");
    eq(got.metadata._cost?.currency, "usd", "metadata._cost.currency");
    ok(typeof got.metadata._cost?.amount === "string" && Number(got.metadata._cost.amount) === 0.0125,
        `metadata._cost.amount: expected the string "0.0125", got ${JSON.stringify(got.metadata._cost?.amount)}`);
    eq({ ...got.metadata, _cost: null }, { status: 200, region: "us", cached: true, _cost: null }, "other metadata");
});

await check("events.get: unknown id -> 404 ResourceNotFound", async () => {
    const { error, body } = await expectStatus(404, () => polar.events.get(randomUuid4()), "unknown event");
    eq(error.name, "ResourceNotFound", "SDK error class");
    eq(body, { error: "ResourceNotFound", detail: "Not found" }, "body");
});

await check("events.ingest: parent_id by external_id and by Polar id; events.list parent_id; child_count", async () => {
    await polar.events.ingest({ events: [{ name: N_PARENT, external_customer_id: `${tag}-x`, external_id: `${tag}-parent`, timestamp: iso(T0 + 3 * HOUR) }] });
    eq(expectOk(200), { inserted: 1, duplicates: 0 }, "parent ingest");
    const parent = (await polar.events.list({ name: N_PARENT })).items[0];
    ok(parent, "the parent event is not listed");
    await polar.events.ingest({ events: [{ name: N_CHILD, external_customer_id: `${tag}-x`, parent_id: `${tag}-parent`, timestamp: iso(T0 + 3.1 * HOUR) }] });
    eq(expectOk(200), { inserted: 1, duplicates: 0 }, "child ingest (parent by external_id)");
    await polar.events.ingest({ events: [{ name: N_CHILD, external_customer_id: `${tag}-x`, parent_id: parent.id, timestamp: iso(T0 + 3.2 * HOUR) }] });
    eq(expectOk(200), { inserted: 1, duplicates: 0 }, "child ingest (parent by id)");
    // The server resolves parents after the ingest; give it a moment.
    let children = [];
    for (let i = 0; i < 20; i++) {
        children = (await polar.events.list({ parent_id: parent.id })).items;
        if (children.length === 2) break;
        await new Promise((r) => setTimeout(r, 150));
    }
    validateList(expectOk(200), (e, w) => validateEvent(e, w), "ListResource_Event_");
    eq(children.map((c) => c.name), [N_CHILD, N_CHILD], "children of the parent (names)");
    eq(children.map((c) => c.parent_id), [parent.id, parent.id], "children's parent_id");
    const p = await polar.events.get(parent.id);
    eq(p.child_count, 2, "parent child_count");
    const d0 = await polar.events.list({ name: [N_PARENT, N_CHILD], depth: 0 });
    eq(ids(d0.items), [parent.id], "depth=0: root events only");
    const d1 = await polar.events.list({ name: [N_PARENT, N_CHILD], depth: 1 });
    eq(d1.items.length, 3, "depth=1: roots and their children");
});

// -- meters -------------------------------------------------------------------------

const nameFilter = (...names) => ({
    conjunction: "or",
    clauses: names.map((n) => ({ property: "name", operator: "eq", value: n })),
});

// Keeps the created meter in S[key] before checking it, so that the later
// checks still run when only the shape of the answer is wrong.
async function createMeter(body, what, key) {
    const m = await polar.meters.create(body);
    if (key) S[key] = m;
    const raw = expectOk(201);
    validateMeter(raw, what);
    eq(m.name, body.name, `${what}.name`);
    eq(m.filter, body.filter, `${what}.filter`);
    eq(m.aggregation, body.aggregation, `${what}.aggregation`);
    eq(m.metadata, body.metadata ?? {}, `${what}.metadata`);
    eq(m.unit, body.unit ?? "scalar", `${what}.unit`);
    eq(m.custom_label, body.custom_label ?? null, `${what}.custom_label`);
    eq(m.custom_multiplier, body.custom_multiplier ?? null, `${what}.custom_multiplier`);
    eq(m.archived_at, null, `${what}.archived_at`);
    eq(m.modified_at, null, `${what}.modified_at`);
    if (S.org) eq(m.organization_id, S.org, `${what}.organization_id`);
    return m;
}

await check("meters.create: count meter, default unit scalar -> 201", async () => {
    await createMeter({
        name: `${tag} calls`, filter: nameFilter(N_LLM, N_API), aggregation: { func: "count" },
        metadata: { team: "ts", billable: true, rank: 3 },
    }, "Meter", "count");
});

await check("meters.update: float metadata value (tier 1.5) -> 200, read back as 1.5", async () => {
    const m = need(S.count, "the count meter");
    const got = await polar.meters.update(m.id, { metadata: { tier: 1.5, team: "ts" } });
    validateMeter(expectOk(200), "Meter");
    eq(got.metadata, { tier: 1.5, team: "ts" }, "metadata");
    eq((await polar.meters.get(m.id)).metadata, { tier: 1.5, team: "ts" }, "meters.get metadata");
    S.floatMetadata = true;
});

await check("meters.create: unit token, sum over the _llm.total_tokens path -> 201", async () => {
    await createMeter({
        name: `${tag} tokens`, unit: "token", filter: nameFilter(N_LLM),
        aggregation: { func: "sum", property: "_llm.total_tokens" }, metadata: { tier: 2 },
    }, "Meter", "tok");
});

await check("meters.create: unit custom with custom_label/custom_multiplier, unique aggregation -> 201", async () => {
    await createMeter({
        name: `${tag} models`, unit: "custom", custom_label: "models", custom_multiplier: 1000,
        filter: { conjunction: "and", clauses: [{ property: "name", operator: "eq", value: N_LLM }] },
        aggregation: { func: "unique", property: "_llm.model" }, metadata: { tier: "gold" },
    }, "Meter", "uniq");
});

await check("meters.create: unit custom without custom_label -> 422 value_error", async () => {
    const { error, body } = await expectStatus(422, () => polar.meters.create({
        // No tag in the name: an emulator that wrongly accepts it must not
        // change the meter lists below.
        name: `no label ${Date.now()}`, unit: "custom", filter: nameFilter(N_LLM), aggregation: { func: "count" },
    }), "custom without label");
    eq(error.name, "HTTPValidationError", "SDK error class");
    eq(body?.detail?.[0]?.type, "value_error", "detail[0].type");
});

await check("meters.get: returns the created meter", async () => {
    const m = need(S.uniq, "the custom meter");
    const got = await polar.meters.get(m.id);
    validateMeter(expectOk(200), "Meter");
    eq(got, m, "meter");
});

await check("meters.get: unknown id -> 404 ResourceNotFound", async () => {
    const { error, body } = await expectStatus(404, () => polar.meters.get(randomUuid4()), "unknown meter");
    eq(error.name, "ResourceNotFound", "SDK error class");
    eq(body, { error: "ResourceNotFound", detail: "Not found" }, "body");
});

await check("meters.update: name, unit fields and metadata (float) -> 200", async () => {
    const m = need(S.uniq, "the custom meter");
    const got = await polar.meters.update(m.id, {
        name: `${tag} models!`, custom_label: "distinct models", custom_multiplier: 10, metadata: { tier: "gold", w: 0.25 },
    });
    validateMeter(expectOk(200), "Meter");
    eq(got.name, `${tag} models!`, "name");
    eq(got.unit, "custom", "unit");
    eq(got.custom_label, "distinct models", "custom_label");
    eq(got.custom_multiplier, 10, "custom_multiplier");
    eq(got.metadata, { tier: "gold", w: 0.25 }, "metadata");
    eq(got.aggregation, m.aggregation, "aggregation");
    S.uniq = got;
    eq(await polar.meters.get(m.id), got, "meters.get after the update");
});

await check("meters.update: filter of a meter that already aggregates events -> 422 forbidden", async () => {
    const m = need(S.count, "the count meter");
    const { body } = await expectStatus(422, () => polar.meters.update(m.id, { filter: nameFilter(N_API) }), "locked filter");
    const d = body?.detail?.[0];
    eq(d?.type, "forbidden", "detail[0].type");
    eq(d?.loc, ["body", "filter"], "detail[0].loc");
});

await check("meters.update: is_archived true archives, false unarchives; get shows archived_at", async () => {
    S.arch = await polar.meters.create({ name: `${tag} archived`, filter: nameFilter(N_LLM), aggregation: { func: "count" } });
    const a = await polar.meters.update(S.arch.id, { is_archived: true });
    validateMeter(expectOk(200), "Meter");
    datetime(a.archived_at, "archived_at after is_archived: true");
    const g = await polar.meters.get(S.arch.id);
    datetime(g.archived_at, "meters.get archived_at");
    const u = await polar.meters.update(S.arch.id, { is_archived: false });
    eq(u.archived_at, null, "archived_at after is_archived: false");
    const again = await polar.meters.update(S.arch.id, { is_archived: true });
    datetime(again.archived_at, "archived_at after archiving again");
    S.archived = true;
});

await check("meters.list: query, default sorting by name, total_count", async () => {
    need(S.count && S.tok && S.uniq && S.arch, "the created meters");
    const r = await polar.meters.list({ query: tag, limit: 100 });
    validateList(expectOk(200), validateMeter, "ListResource_Meter_");
    const names = r.items.map((m) => m.name);
    eq(names, [...names].sort(), "names in ascending order");
    eq(new Set(ids(r.items)), new Set([S.count.id, S.tok.id, S.uniq.id, S.arch.id]), "meters matching the query");
    eq(r.pagination, { total_count: 4, max_page: 1 }, "pagination");
    const o = await polar.meters.list({ query: tag, organization_id: [need(S.org, "the organization")] });
    eq(o.pagination.total_count, 4, "organization_id = the token's organization");
    const other = await polar.meters.list({ query: tag, organization_id: randomUuid4() });
    eq(other.items, [], "organization_id = another organization");
});

await check("meters.list: sorting -name and -created_at", async () => {
    need(S.archived, "the created meters");
    const r = await polar.meters.list({ query: tag, sorting: ["-name"] });
    const names = r.items.map((m) => m.name);
    eq(names, [...names].sort().reverse(), "names in descending order");
    const c = await polar.meters.list({ query: tag, sorting: ["-created_at"] });
    eq(ids(c.items), [S.arch.id, S.uniq.id, S.tok.id, S.count.id], "ids by -created_at");
});

await check("meters.list: a query with a space (sent as '+') and one with no match", async () => {
    need(S.archived, "the created meters");
    const r = await polar.meters.list({ query: `${tag} CAL` });
    ok(new URL(last().url).search.includes(`query=${tag}+CAL`), `the SDK sends a space as '+': ${last().url}`);
    eq(ids(r.items), [S.count.id], "case-insensitive query with a space");
    const none = await polar.meters.list({ query: `${tag}-none` });
    eq(expectOk(200), { items: [], pagination: { total_count: 0, max_page: 0 } }, "no match");
    eq(none.items, [], "items");
});

await check("meters.list: paging (limit 1, page 2) and a page past the end keeps the real totals", async () => {
    need(S.archived, "the created meters");
    const r = await polar.meters.list({ query: tag, sorting: ["created_at"], limit: 1, page: 2 });
    eq(ids(r.items), [S.tok.id], "page 2 of 1");
    eq(r.pagination, { total_count: 4, max_page: 4 }, "pagination");
    const past = await polar.meters.list({ query: tag, limit: 2, page: 9 });
    eq(past.items, [], "items past the end");
    eq(past.pagination, { total_count: 4, max_page: 2 }, "pagination past the end");
    const all = [];
    for await (const m of polar.meters.iterList({ query: tag, limit: 3 })) all.push(m.id);
    eq(all.length, 4, "meters.iterList over two pages");
});

await check("meters.list: is_archived true / false / omitted", async () => {
    need(S.archived, "the archived meter");
    const t = await polar.meters.list({ query: tag, is_archived: true });
    eq(new URL(last().url).searchParams.get("is_archived"), "true", "query parameter is_archived");
    eq(ids(t.items), [S.arch.id], "is_archived=true");
    const f = await polar.meters.list({ query: tag, is_archived: false, sorting: ["created_at"] });
    eq(ids(f.items), [S.count.id, S.tok.id, S.uniq.id], "is_archived=false");
    const all = await polar.meters.list({ query: tag });
    eq(all.pagination.total_count, 4, "is_archived omitted: total_count");
});

await check("meters.list: metadata filter on a float value (metadata[tier]=1.5) and on a string", async () => {
    need(S.archived, "the created meters");
    need(S.floatMetadata, "the float metadata update");
    const r = await polar.meters.list({ query: tag, metadata: { tier: 1.5 } });
    eq(new URL(last().url).searchParams.get("metadata[tier]"), "1.5", "query parameter metadata[tier]");
    eq(ids(r.items), [S.count.id], "metadata[tier]=1.5");
    const s = await polar.meters.list({ query: tag, metadata: { tier: ["gold", "2"] }, sorting: ["created_at"] });
    eq(ids(s.items), [S.tok.id, S.uniq.id], "metadata[tier]=gold or 2");
});

// -- quantities ---------------------------------------------------------------------

async function quantities(meter, query, expected, expectedTotal, what) {
    const m = need(meter, "the meter");
    const q = await polar.meters.quantities(m.id, query);
    validateQuantities(expectOk(200), "MeterQuantities");
    eq(q.quantities.length, expected.length, `${what}: number of points`);
    q.quantities.forEach((p, i) => {
        sameInstant(p.timestamp, iso(expected[i][0]), `${what}: quantities[${i}].timestamp`);
        eq(p.quantity, expected[i][1], `${what}: quantities[${i}].quantity`);
    });
    eq(q.total, expectedTotal, `${what}: total`);
    return q;
}
const days = { start_timestamp: iso(T0), end_timestamp: iso(T0 + 2 * DAY), interval: "day" };

await check("meters.quantities: count per UTC day, total = sum (timezone=UTC sent by default)", async () => {
    await quantities(S.count, days, [[T0, 3], [T0 + DAY, 1], [T0 + 2 * DAY, 0]], 4, "count/day");
    eq(new URL(last().url).searchParams.get("timezone"), "UTC", "query parameter timezone");
});

await check("meters.quantities: count per hour", async () => {
    await quantities(S.count, { start_timestamp: iso(T0), end_timestamp: iso(T0 + 2 * HOUR), interval: "hour" },
        [[T0, 0], [T0 + HOUR, 2], [T0 + 2 * HOUR, 0]], 2, "count/hour");
});

await check("meters.quantities: sum over _llm.total_tokens (token unit)", async () => {
    await quantities(S.tok, days, [[T0, 90], [T0 + DAY, 0], [T0 + 2 * DAY, 0]], 90, "sum/day");
});

await check("meters.quantities: unique over _llm.model", async () => {
    await quantities(S.uniq, days, [[T0, 2], [T0 + DAY, 0], [T0 + 2 * DAY, 0]], 2, "unique/day");
});

await check("meters.quantities: timezone Europe/Paris buckets by local day", async () => {
    // Local midnight in Paris (UTC+1 in winter) is 23:00Z; the event at 23:30Z
    // belongs to the next local day.
    const start = T0 - HOUR;
    const tz = await quantities(S.count, {
        start_timestamp: iso(start), end_timestamp: iso(start + 2 * DAY), interval: "day", timezone: "Europe/Paris",
    }, [[start, 2], [start + DAY, 2], [start + 2 * DAY, 0]], 4, "count/day Europe/Paris");
    ok(tz.quantities.every((p) => p.timestamp.endsWith("Z")), `timestamps are rendered in UTC with Z: ${tz.quantities.map((p) => p.timestamp)}`);
});

await check("meters.quantities: customer_id, external_customer_id, and both (union)", async () => {
    await quantities(S.count, { ...days, customer_id: need(S.c1, "customers").id },
        [[T0, 2], [T0 + DAY, 0], [T0 + 2 * DAY, 0]], 2, "customer_id");
    await quantities(S.count, { ...days, external_customer_id: S.c2.external_id },
        [[T0, 1], [T0 + DAY, 1], [T0 + 2 * DAY, 0]], 2, "external_customer_id");
    await quantities(S.count, { ...days, customer_id: [S.c1.id], external_customer_id: [S.c2.external_id] },
        [[T0, 3], [T0 + DAY, 1], [T0 + 2 * DAY, 0]], 4, "customer_id + external_customer_id");
});

await check("meters.quantities: customer_aggregation_function max and count", async () => {
    need(S.c1, "customers");
    await quantities(S.count, { ...days, customer_aggregation_function: "max" },
        [[T0, 2], [T0 + DAY, 1], [T0 + 2 * DAY, 0]], 3, "customer_aggregation_function=max");
    await quantities(S.tok, { ...days, customer_aggregation_function: "count" },
        [[T0, 2], [T0 + DAY, 0], [T0 + 2 * DAY, 0]], 2, "customer_aggregation_function=count");
});

await check("meters.quantities: metadata filter (metadata[region]=eu)", async () => {
    await quantities(S.count, { ...days, metadata: { region: "eu" } },
        [[T0, 2], [T0 + DAY, 0], [T0 + 2 * DAY, 0]], 2, "metadata[region]=eu");
});

await check("meters.quantities: end before start -> 422", async () => {
    const m = need(S.count, "the count meter");
    const { error, body } = await expectStatus(422, () => polar.meters.quantities(m.id, {
        start_timestamp: iso(T0 + DAY), end_timestamp: iso(T0), interval: "day",
    }), "end before start");
    eq(error.name, "HTTPValidationError", "SDK error class");
    eq(body?.detail?.[0]?.msg, "The interval is too small for the given date range. Use a larger interval or reduce the date range.", "detail[0].msg");
});

// -- events list --------------------------------------------------------------------

async function eventIds(query, what) {
    const r = await polar.events.list(query);
    validateList(expectOk(200), (e, w) => validateEvent(e, w), "ListResource_Event_");
    return { ids: ids(r.items), pagination: r.pagination, items: r.items };
}
const both = [N_LLM, N_API];

await check("events.list: several names, sorting timestamp (ascending)", async () => {
    const r = await eventIds({ name: both, sorting: ["timestamp"] });
    eq(r.ids, ["e1", "e2", "e3", "e4"].map((k) => E(k).id), "ids");
    eq(r.pagination, { total_count: 4, max_page: 1 }, "pagination");
});

await check("events.list: meter_id applies the meter's filter", async () => {
    need(S.count && S.tok, "the meters");
    eq((await eventIds({ meter_id: S.tok.id })).ids, ["e3", "e2", "e1"].map(E).map((e) => e.id), "meter_id=token meter");
    eq((await eventIds({ meter_id: S.count.id })).ids, ["e4", "e3", "e2", "e1"].map(E).map((e) => e.id), "meter_id=count meter");
});

await check("events.list: unknown meter_id -> 422 meter_id", async () => {
    const { body } = await expectStatus(422, () => polar.events.list({ meter_id: randomUuid4() }), "unknown meter_id");
    eq(body?.detail?.[0]?.type, "meter_id", "detail[0].type");
    eq(body?.detail?.[0]?.loc, ["query", "meter_id"], "detail[0].loc");
});

await check("events.list: customer_id and external_customer_id", async () => {
    eq((await eventIds({ name: both, customer_id: need(S.c1, "customers").id })).ids, [E("e3").id, E("e1").id], "customer_id");
    eq((await eventIds({ name: both, external_customer_id: S.c2.external_id })).ids, [E("e4").id, E("e2").id], "external_customer_id");
    eq((await eventIds({ name: both, customer_id: [S.c1.id], external_customer_id: [S.c2.external_id] })).ids.length, 4, "both (union)");
});

await check("events.list: source user / system", async () => {
    eq((await eventIds({ name: both, source: "user" })).ids.length, 4, "source=user");
    eq((await eventIds({ name: both, source: ["system"] })).ids, [], "source=system");
});

await check("events.list: start_timestamp/end_timestamp are exclusive", async () => {
    const r = await eventIds({ name: both, start_timestamp: iso(T0 + HOUR), end_timestamp: iso(T0 + 25 * HOUR) });
    eq(r.ids, [E("e3").id, E("e2").id], "ids strictly between e1 and e4");
});

await check("events.list: filter (JSON text of a Filter)", async () => {
    const filter = JSON.stringify({
        conjunction: "and",
        clauses: [{ property: "region", operator: "eq", value: "eu" }, nameFilter(...both)],
    });
    eq((await eventIds({ filter })).ids, [E("e3").id, E("e1").id], "region eq eu");
    const like = JSON.stringify({ conjunction: "and", clauses: [{ property: "name", operator: "like", value: `${tag}.api` }] });
    eq((await eventIds({ filter: like })).ids, [E("e4").id], "name like");
});

await check("events.list: metadata[region]=us", async () => {
    eq((await eventIds({ name: both, metadata: { region: "us" } })).ids, [E("e4").id, E("e2").id], "metadata[region]=us");
});

await check("events.list: query with organization_id; query without it -> 422", async () => {
    const r = await eventIds({ query: tag, organization_id: need(S.org, "the organization"), limit: 100 });
    for (const k of ["e1", "e2", "e3", "e4"]) ok(r.ids.includes(E(k).id), `query=${tag}: ${k} is missing`);
    const { body } = await expectStatus(422, () => polar.events.list({ query: tag }), "query without organization_id");
    eq(body?.detail?.[0]?.msg, "Query is only supported when organization_id is provided.", "detail[0].msg");
});

await check("events.list: paging; a page past the end reports total 0", async () => {
    const p2 = await eventIds({ name: both, limit: 3, page: 2 });
    eq(p2.ids, [E("e1").id], "page 2 of 3");
    eq(p2.pagination, { total_count: 4, max_page: 2 }, "pagination");
    const p3 = await eventIds({ name: both, limit: 3, page: 3 });
    eq(p3.ids, [], "page 3");
    eq(p3.pagination, { total_count: 0, max_page: 0 }, "pagination past the end");
});

// -- customer meters ----------------------------------------------------------------

await check("customer_meters.list: envelope and CustomerMeter shape", async () => {
    await polar.customerMeters.list({ limit: 100 });
    validateList(expectOk(200), validateCustomerMeter, "ListResource_CustomerMeter_");
});

await check("customer_meters.list: meter_id rows with consumed_units and balance", async () => {
    const m = need(S.count, "the count meter");
    need(S.c1, "customers");
    let r;
    for (let i = 0; i < 20; i++) {
        r = await polar.customerMeters.list({ meter_id: m.id });
        if (r.items.length >= 2) break;
        await new Promise((res) => setTimeout(res, 250));
    }
    validateList(expectOk(200), validateCustomerMeter, "ListResource_CustomerMeter_");
    ok(r.items.every((cm) => cm.meter_id === m.id), "a row of another meter in the meter_id list");
    const byCustomer = new Map(r.items.map((cm) => [cm.customer_id, cm]));
    for (const c of [S.c1, S.c2]) {
        const cm = byCustomer.get(c.id);
        ok(cm, `no customer meter for customer ${c.id} on the meter (rows: ${r.items.length})`);
        eq(cm.consumed_units, 2, `consumed_units of customer ${c.id}`);
        eq(cm.balance, cm.credited_units - cm.consumed_units, "balance = credited - consumed");
        eq(cm.meter.id, m.id, "meter.id");
        eq(cm.customer.id, c.id, "customer.id");
    }
    S.cm = byCustomer.get(S.c1.id);
});

await check("customer_meters.get: a row by id; unknown id -> 404", async () => {
    const cm = need(S.cm, "a customer meter");
    const got = await polar.customerMeters.get(cm.id);
    validateCustomerMeter(expectOk(200), "CustomerMeter");
    eq(got, cm, "customer meter");
    const { error } = await expectStatus(404, () => polar.customerMeters.get(randomUuid4()), "unknown customer meter");
    eq(error.name, "ResourceNotFound", "SDK error class");
});

await check("customer_meters.list: customer_id, external_customer_id; archived meters only with meter_id", async () => {
    need(S.archived, "the archived meter");
    const c = await polar.customerMeters.list({ customer_id: need(S.c1, "customers").id, limit: 100 });
    ok(c.items.every((cm) => cm.customer_id === S.c1.id), "a row of another customer in the customer_id list");
    ok(c.items.some((cm) => cm.meter_id === S.count.id), "the count meter's row is missing from the customer_id list");
    ok(!c.items.some((cm) => cm.meter_id === S.arch.id), "a row of an archived meter is listed without meter_id");
    const x = await polar.customerMeters.list({ external_customer_id: S.c2.external_id, limit: 100 });
    ok(x.items.length > 0 && x.items.every((cm) => cm.customer_id === S.c2.id), "external_customer_id rows");
    const a = await polar.customerMeters.list({ meter_id: [S.arch.id], limit: 100 });
    ok(a.items.every((cm) => cm.meter_id === S.arch.id), "a row of another meter in the meter_id list");
    const sorted = await polar.customerMeters.list({ customer_id: S.c1.id, sorting: ["-meter_name"], limit: 100 });
    const names = sorted.items.map((cm) => cm.meter.name);
    eq(names, [...names].sort().reverse(), "sorting=-meter_name");
    const mine = await polar.customerMeters.list({ meter_id: [S.count.id, S.tok.id], customer_id: S.c1.id, sorting: ["consumed_units"] });
    eq(mine.items.map((cm) => cm.consumed_units), [2, 60], "sorting=consumed_units (count meter 2, token meter 15+45)");
});

// -- removed endpoint ----------------------------------------------------------------

await check("GET /v1/meters/{id}/events is gone: 404 {\"detail\":\"Not Found\"} with Polar-Version", async () => {
    const m = need(S.count, "the count meter");
    const res = await realFetch(`${args.url}/v1/meters/${m.id}/events`, {
        headers: { Authorization: `Bearer ${args.token}`, "Polar-Version": VERSION },
    });
    eq(res.status, 404, "status");
    eq(await res.json(), { detail: "Not Found" }, "body");
    eq(res.headers.get("polar-version"), VERSION, "response header Polar-Version");
});

void CheckError;
void exchanges;
void uuid4;
void lastJson;
finish();
