// Shared pieces of the TypeScript SDK conformance checks: arguments, a
// recorder of the HTTP exchanges the SDK makes, the check runner and the
// validators of the wire shapes (raw JSON bodies, not the SDK's objects).

// --url URL --token TOKEN (or POLAR_BASE_URL / POLAR_TOKEN), optional
// --only SUBSTRING to report only the checks whose name contains it (all of
// them still run, since later checks use what earlier ones created).
export function parseArgs(argv) {
    const out = {
        url: process.env.POLAR_BASE_URL,
        token: process.env.POLAR_TOKEN,
        only: process.env.POLAR_CHECK_ONLY,
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const v = argv[i + 1];
        if (a === "--url") out.url = v;
        else if (a === "--token") out.token = v;
        else if (a === "--only") out.only = v;
        else {
            console.error(`unknown argument ${a}`);
            process.exit(2);
        }
        i++;
    }
    if (!out.url || !out.token) {
        console.error("usage: node check.mjs --url BASE_URL --token TOKEN [--only NAME] (or POLAR_BASE_URL, POLAR_TOKEN)");
        process.exit(2);
    }
    out.url = out.url.replace(/\/+$/, "");
    return out;
}

// Every fetch the SDK makes is recorded: method, URL, request headers and
// body, status, response headers and the raw response text.
export const exchanges = [];
export function installRecorder() {
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
        const req = input instanceof Request ? input : new Request(input, init);
        const reqBody = init?.body !== undefined ? String(init.body) : input instanceof Request ? await input.clone().text() : "";
        const res = await realFetch(input, init);
        const text = await res.clone().text();
        exchanges.push({
            method: req.method,
            url: req.url,
            requestHeaders: req.headers,
            requestBody: reqBody,
            status: res.status,
            headers: res.headers,
            text,
        });
        return res;
    };
    return realFetch;
}
export function last() {
    if (!exchanges.length) throw new CheckError("no HTTP request was made");
    return exchanges[exchanges.length - 1];
}
export function lastJson() {
    const x = last();
    try {
        return JSON.parse(x.text);
    } catch {
        throw new CheckError(`${x.method} ${x.url}: response is not JSON: ${x.text.slice(0, 200)}`);
    }
}
function where() {
    const x = exchanges[exchanges.length - 1];
    if (!x) return "";
    const u = new URL(x.url);
    return ` [${x.method} ${u.pathname}${u.search} -> ${x.status}]`;
}

export class CheckError extends Error {}

// Runs the checks one after another; one line each. A check that needs the
// result of an earlier failed one fails with "needs ...".
export function makeRunner(only) {
    const results = [];
    async function check(name, fn) {
        const shown = !only || name.includes(only);
        const before = exchanges.length;
        try {
            const v = await fn();
            if (!shown) return v;
            results.push({ name, ok: true });
            console.log(`ok    ${name}`);
            return v;
        } catch (e) {
            if (!shown) return undefined;
            results.push({ name, ok: false });
            const ctx = exchanges.length > before ? where() : "";
            let msg = e instanceof CheckError ? e.message : `${e?.name ?? "Error"}: ${e?.message ?? e}`;
            if (!(e instanceof CheckError) && e?.error !== undefined && typeof e.error === "object")
                msg += ` ${JSON.stringify(e.error)}`;
            console.log(`FAIL  ${name}: ${msg.replace(/\s+/g, " ").slice(0, 1500)}${ctx}`);
            if (process.env.POLAR_CHECK_DEBUG && !(e instanceof CheckError)) console.log(e?.stack);
            return undefined;
        }
    }
    function finish() {
        const passed = results.filter((r) => r.ok).length;
        const failed = results.length - passed;
        console.log(`${passed} passed, ${failed} failed`);
        process.exit(failed ? 1 : 0);
    }
    return { check, finish };
}

// -- assertions ---------------------------------------------------------------

export function fail(msg) {
    throw new CheckError(msg);
}
export function need(value, what) {
    if (value === undefined || value === null) fail(`needs ${what} (an earlier check failed)`);
    return value;
}
const show = (v) => (v === undefined ? "undefined" : JSON.stringify(v));
export function eq(got, expected, what) {
    if (!deepEqual(got, expected)) fail(`${what}: expected ${show(expected)}, got ${show(got)}`);
}
export function ok(cond, msg) {
    if (!cond) fail(msg);
}
export function deepEqual(a, b) {
    if (a === b) return true;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}
export function sameInstant(got, expected, what) {
    if (typeof got !== "string" || Date.parse(got) !== Date.parse(expected))
        fail(`${what}: expected the instant ${expected}, got ${show(got)}`);
}
// Expects the SDK call to throw an error for `status`; returns the raw JSON body.
export async function expectStatus(status, fn, what) {
    let threw = null;
    try {
        await fn();
    } catch (e) {
        threw = e;
    }
    const x = last();
    if (!threw) fail(`${what}: expected HTTP ${status}, the call succeeded with ${x.status}: ${x.text.slice(0, 300)}`);
    if (x.status !== status) fail(`${what}: expected HTTP ${status}, got ${x.status} (${threw.name}: ${threw.message})`);
    try {
        return { error: threw, body: x.text ? JSON.parse(x.text) : null };
    } catch {
        return { error: threw, body: x.text };
    }
}

// -- wire shapes --------------------------------------------------------------

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

export function uuid4(v, what) {
    if (typeof v !== "string" || !UUID4.test(v)) fail(`${what}: expected a UUID v4, got ${show(v)}`);
}
export function datetime(v, what) {
    if (typeof v !== "string" || !DATETIME.test(v) || Number.isNaN(Date.parse(v)))
        fail(`${what}: expected an ISO 8601 date-time with an offset, got ${show(v)}`);
}
function nullable(check) {
    return (v, what) => {
        if (v !== null) check(v, what);
    };
}
function str(v, what) {
    if (typeof v !== "string") fail(`${what}: expected a string, got ${show(v)}`);
}
function int(v, what) {
    if (!Number.isInteger(v)) fail(`${what}: expected an integer, got ${show(v)}`);
}
function num(v, what) {
    if (typeof v !== "number" || !Number.isFinite(v)) fail(`${what}: expected a number, got ${show(v)}`);
}
function bool(v, what) {
    if (typeof v !== "boolean") fail(`${what}: expected a boolean, got ${show(v)}`);
}
function oneOf(values) {
    return (v, what) => {
        if (!values.includes(v)) fail(`${what}: expected one of ${values.join("|")}, got ${show(v)}`);
    };
}

// fields: {name: [check, required]}. Keys outside `fields` are reported:
// the server serializes exactly its schema.
function shape(obj, fields, what) {
    if (!isObj(obj)) fail(`${what}: expected an object, got ${show(obj)}`);
    for (const [k, [check, required]] of Object.entries(fields)) {
        if (!(k in obj)) {
            if (required) fail(`${what}: missing key "${k}"`);
            continue;
        }
        check(obj[k], `${what}.${k}`);
    }
    const extra = Object.keys(obj).filter((k) => !(k in fields));
    if (extra.length) fail(`${what}: unexpected key(s) ${extra.map((k) => `"${k}"`).join(", ")}`);
}

function metadataOutput(allowFloat) {
    return (v, what) => {
        if (!isObj(v)) fail(`${what}: expected an object, got ${show(v)}`);
        for (const [k, x] of Object.entries(v)) {
            const okType = typeof x === "string" || typeof x === "boolean" || (allowFloat ? typeof x === "number" : Number.isInteger(x));
            if (!okType) fail(`${what}.${k}: expected string|${allowFloat ? "number" : "integer"}|boolean, got ${show(x)}`);
        }
    };
}

export function validateFilter(f, what, version) {
    if (isObj(f) && "property" in f) {
        shape(f, {
            property: [str, true],
            operator: [oneOf(["eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like"]), true],
            value: [(v, w) => {
                if (!(typeof v === "string" || typeof v === "boolean" || Number.isInteger(v))) fail(`${w}: expected string|integer|boolean, got ${show(v)}`);
            }, true],
        }, what);
        return;
    }
    shape(f, {
        conjunction: [oneOf(["and", "or"]), true],
        clauses: [(v, w) => {
            if (!Array.isArray(v)) fail(`${w}: expected an array`);
            v.forEach((c, i) => validateFilter(c, `${w}[${i}]`, version));
        }, true],
    }, what);
}

function aggregation(version) {
    const funcs = version === "2025-03" ? ["count", "sum", "max", "min", "avg"] : ["count", "sum", "max", "min", "avg", "unique"];
    return (a, what) => {
        if (!isObj(a)) fail(`${what}: expected an object, got ${show(a)}`);
        oneOf(funcs)(a.func, `${what}.func`);
        if (a.func === "count") shape(a, { func: [str, true] }, what);
        else shape(a, { func: [str, true], property: [str, true] }, what);
    };
}

export function validateMeter(m, what, version = "2026-10") {
    const fields = {
        id: [uuid4, true],
        created_at: [datetime, true],
        modified_at: [nullable(datetime), true],
        metadata: [metadataOutput(version !== "2025-03"), true],
        name: [str, true],
        filter: [(v, w) => validateFilter(v, w, version), true],
        aggregation: [aggregation(version), true],
        organization_id: [uuid4, true],
    };
    if (version !== "2025-03") {
        // Optional in the OpenAPI, but the server always serializes them.
        Object.assign(fields, {
            unit: [oneOf(["scalar", "token", "custom"]), true],
            custom_label: [nullable(str), true],
            custom_multiplier: [nullable(int), true],
            archived_at: [nullable(datetime), true],
        });
    }
    shape(m, fields, what);
}

export function validatePagination(p, what) {
    shape(p, { total_count: [int, true], max_page: [int, true] }, what);
}

export function validateList(body, itemCheck, what) {
    shape(body, {
        items: [(v, w) => {
            if (!Array.isArray(v)) fail(`${w}: expected an array`);
            v.forEach((x, i) => itemCheck(x, `${w}[${i}]`));
        }, true],
        pagination: [validatePagination, true],
    }, what);
}

const ADDRESS = {
    line1: [nullable(str), false],
    line2: [nullable(str), false],
    postal_code: [nullable(str), false],
    city: [nullable(str), false],
    state: [nullable(str), false],
    country: [str, true],
};

export function validateCustomer(c, what, version = "2026-10") {
    const common = {
        id: [uuid4, true],
        created_at: [datetime, true],
        modified_at: [nullable(datetime), true],
        metadata: [metadataOutput(version !== "2025-03"), true],
        external_id: [nullable(str), version === "2025-03"],
        email_verified: [bool, true],
        name: [nullable(str), true],
        billing_address: [nullable((v, w) => shape(v, ADDRESS, w)), true],
        tax_id: [nullable((v, w) => {
            if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "string" || typeof v[1] !== "string")
                fail(`${w}: expected [value, format], got ${show(v)}`);
        }), true],
        organization_id: [uuid4, true],
        deleted_at: [nullable(datetime), true],
        avatar_url: [nullable(str), true],
    };
    if (version === "2025-03") {
        shape(c, { ...common, email: [str, true] }, what);
        return;
    }
    if (!isObj(c)) fail(`${what}: expected an object, got ${show(c)}`);
    oneOf(["individual", "team"])(c.type, `${what}.type`);
    shape(c, {
        ...common,
        type: [str, true],
        email: c.type === "individual" ? [str, true] : [nullable(str), false],
        billing_name: [nullable(str), true],
        locale: [nullable(str), false],
        default_payment_method_id: [nullable(uuid4), false],
        first_user_event_at: [nullable(datetime), true],
    }, what);
}

export function validateEvent(e, what, version = "2026-10") {
    const common = {
        id: [uuid4, true],
        timestamp: [datetime, true],
        organization_id: [uuid4, true],
        customer_id: [nullable(uuid4), true],
        customer: [nullable((v, w) => validateCustomer(v, w, version)), true],
        external_customer_id: [nullable(str), true],
        name: [str, true],
        source: [oneOf(["system", "user"]), true],
        metadata: [(v, w) => {
            if (!isObj(v)) fail(`${w}: expected an object, got ${show(v)}`);
        }, true],
    };
    if (version === "2025-03") {
        shape(e, common, what);
        return;
    }
    shape(e, {
        ...common,
        member_id: [nullable(uuid4), true],
        external_member_id: [nullable(str), true],
        child_count: [int, true],
        parent_id: [nullable(uuid4), true],
        label: [str, true],
    }, what);
    if (e.source === "user") validateUserEventMetadata(e.metadata, `${what}.metadata`);
}

export function validateUserEventMetadata(md, what) {
    for (const [k, v] of Object.entries(md)) {
        if (k === "_llm") {
            shape(v, {
                vendor: [str, true],
                model: [str, true],
                prompt: [nullable(str), false],
                response: [nullable(str), false],
                input_tokens: [int, true],
                cached_input_tokens: [int, false],
                output_tokens: [int, true],
                total_tokens: [int, true],
            }, `${what}._llm`);
        } else if (k === "_cost") {
            shape(v, { amount: [str, true], currency: [str, true] }, `${what}._cost`);
        } else if (!(typeof v === "string" || typeof v === "number" || typeof v === "boolean")) {
            fail(`${what}.${k}: expected string|number|boolean, got ${show(v)}`);
        }
    }
}

export function validateCustomerMeter(cm, what) {
    shape(cm, {
        id: [uuid4, true],
        created_at: [datetime, true],
        modified_at: [nullable(datetime), true],
        customer_id: [uuid4, true],
        meter_id: [uuid4, true],
        consumed_units: [num, true],
        credited_units: [int, true],
        balance: [num, true],
        customer: [(v, w) => validateCustomer(v, w), true],
        meter: [(v, w) => validateMeter(v, w), true],
    }, what);
}

export function validateQuantities(q, what, version = "2026-10") {
    const fields = {
        quantities: [(v, w) => {
            if (!Array.isArray(v)) fail(`${w}: expected an array`);
            v.forEach((x, i) => shape(x, { timestamp: [datetime, true], quantity: [num, true] }, `${w}[${i}]`));
        }, true],
    };
    if (version !== "2025-03") fields.total = [num, true];
    shape(q, fields, what);
}
