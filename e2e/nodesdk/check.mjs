// check.mjs reads a Kusto engine's answers with Microsoft's Node.js Kusto SDK (azure-kusto-data),
// used as its documentation shows, and prints what the SDK decoded as one JSON report.
//
// Usage: node check.mjs ENGINE_URL [DATABASE] [--steps=name,name...]
//
// Against an engine without authentication (a plain http URL such as the emulator's), the
// connection string is just the URL: with no credentials in it the SDK sends no Authorization
// header. The program creates the table NodeSdkTypes (dropping an older one), ingests rows that
// cover every column type with `.ingest inline`, then runs queries through the v2 endpoint
// (executeQuery, execute), the v1 query endpoint (executeQueryV1) and management commands
// through the v1 endpoint (executeMgmt, execute), plus requests that must fail. For each step the
// report holds either the SDK's result objects, flattened (tables, column types, every cell as
// received and as decoded), or the error the SDK threw. The program exits 0 whenever it could
// write the report; judging the report is the caller's job.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import {
  Client,
  ClientRequestProperties,
  KustoConnectionStringBuilder,
  KustoDataErrors,
} from "azure-kusto-data";

const TABLE = "NodeSdkTypes";
const COLUMNS = [
  ["s", "string"],
  ["i", "int"],
  ["l", "long"],
  ["r", "real"],
  ["b", "bool"],
  ["dt", "datetime"],
  ["ts", "timespan"],
  ["g", "guid"],
  ["d", "decimal"],
  ["dyn", "dynamic"],
];

// ROWS are the ingested rows as CSV field text, one per column. Every type appears with its edge
// values; the last row is empty but for the string column, so every other column is null.
const ROWS = [
  ["alpha", "1", "9007199254740993", "0.5", "true", "2024-01-02T03:04:05.1234567Z", "1.02:03:04.5",
    "0b8e3f4c-1d2a-4b5c-9e6f-7a8b9c0d1e2f", "2.00000000000001", '{"a":{"b":[1,2],"c":"x"}}'],
  ["beta", "-2147483648", "-9223372036854775808", "NaN", "false", "1970-01-01T00:00:00Z", "-00:00:01",
    "6F9619FF-8B86-D011-B42D-00C04FC964FF", "-0.1", '[1,"two",null,{"k":true},2.5]'],
  ["gamma", "2147483647", "9223372036854775807", "Infinity", "true", "0001-01-01T00:00:00Z", "00:00:00",
    "00000000-0000-0000-0000-000000000000", "79228162514264337593543950335",
    '{"q":"he said \\"hi\\", twice","u":"\u00e9\u2713","n":-1.5e300,"z":null}'],
  ["delta", "0", "42", "-Infinity", "false", "9999-12-31T23:59:59.9999999Z", "100000.23:59:59.9999999",
    "ffffffff-ffff-ffff-ffff-ffffffffffff", "0", "{}"],
  ["epsilon", "7", "-1", "2.5e-10", "true", "2000-02-29T12:00:00.5Z", "-3.04:05:06.007",
    "12345678-9abc-def0-1234-56789abcdef0", "123456789.123456789", "[]"],
  ["zeta", "-7", "1", "1e300", "false", "2024-06-30T23:59:59.999Z", "00:00:00.0000001",
    "a0a0a0a0-b1b1-c2c2-d3d3-e4e4e4e4e4e4", "-123.45", '[[],{"x":[{"y":"z"}]}]'],
  ["", "", "", "", "", "", "", "", "", ""],
];

// csvField quotes a field when CSV needs it (RFC 4180).
function csvField(text) {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const INGEST_CSV = ROWS.map((r) => r.map(csvField).join(",")).join("\n");

// STEPS run in order. api names the client method; params become query parameters of
// ClientRequestProperties; database overrides the database of the run.
const STEPS = [
  { name: "drop", api: "executeMgmt", csl: `.drop table ${TABLE} ifexists` },
  { name: "create", api: "executeMgmt", csl: `.create table ${TABLE} (${COLUMNS.map(([n, t]) => `${n}:${t}`).join(", ")})` },
  { name: "show-tables", api: "execute", csl: ".show tables" },
  { name: "ingest", api: "executeMgmt", csl: `.ingest inline into table ${TABLE} with (format="csv") <|\n${INGEST_CSV}` },
  { name: "show-cslschema", api: "executeMgmt", csl: `.show table ${TABLE} cslschema` },
  { name: "show-version", api: "executeMgmt", csl: ".show version" },
  { name: "show-databases", api: "executeMgmt", csl: ".show databases" },
  { name: "show-extents", api: "executeMgmt", csl: `.show table ${TABLE} extents` },
  { name: "show-schema-json", api: "executeMgmt", csl: `.show table ${TABLE} schema as json` },
  { name: "show-streaming-policy", api: "executeMgmt", csl: `.show table ${TABLE} policy streamingingestion` },
  { name: "show-ingestion-failures", api: "executeMgmt", csl: ".show ingestion failures" },
  { name: "take", api: "executeQuery", csl: `${TABLE} | take 100` },
  { name: "take-v1", api: "executeQueryV1", csl: `${TABLE} | take 100` },
  { name: "count", api: "execute", csl: `${TABLE} | count` },
  { name: "summarize", api: "executeQuery", csl: `${TABLE} | summarize n=count(), latest=max(dt) by b` },
  { name: "project", api: "executeQuery", csl: `${TABLE} | where i == 1 | project s, l, dyn` },
  { name: "where-dynamic", api: "executeQuery", csl: `${TABLE} | where dyn.a.c == "x" or dyn['q'] has "hi" | project s` },
  { name: "empty", api: "executeQuery", csl: `${TABLE} | where s == "no such row"` },
  {
    name: "param-long", api: "executeQuery", params: { minI: 7 },
    csl: `declare query_parameters(minI:long);\n${TABLE} | where i >= minI | project s`,
  },
  {
    name: "param-string", api: "executeQuery", params: { name: "beta" },
    csl: `declare query_parameters(name:string);\n${TABLE} | where s == name | project s, i`,
  },
  {
    name: "param-datetime", api: "executeQuery", params: { since: "datetime(2000-01-01)" },
    csl: `declare query_parameters(since:datetime);\n${TABLE} | where dt >= since | project s`,
  },
  { name: "timespan-range", api: "executeQuery", csl: "print big=300000d, neg=-300000d, max=timespan(10675199.02:48:05.4775807)" },
  { name: "multi-v2", api: "executeQuery", csl: `${TABLE} | count; ${TABLE} | where s == "alpha" | project s, i` },
  { name: "multi-v1", api: "executeQueryV1", csl: `${TABLE} | count; ${TABLE} | where s == "alpha" | project s, i` },
  { name: "syntax-error", api: "executeQuery", csl: `${TABLE} | wher s == "alpha"` },
  { name: "unknown-table", api: "executeQuery", csl: "NoSuchTable | take 1" },
  { name: "unknown-database", api: "executeQuery", csl: `${TABLE} | take 1`, database: "NoSuchDatabase" },
  { name: "mgmt-unknown-table", api: "executeMgmt", csl: ".show table NoSuchTable cslschema" },
  { name: "mgmt-unknown-command", api: "executeMgmt", csl: ".frobnicate the cluster" },
];

// cell describes one value as the SDK decoded it: its JavaScript kind and value (a Date as its
// ISO text and milliseconds), next to the value as it arrived in the row.
function cell(raw, decoded) {
  const out = { raw };
  if (decoded === null || decoded === undefined) {
    out.kind = decoded === null ? "null" : "undefined";
  } else if (decoded instanceof Date) {
    const ms = decoded.getTime();
    out.kind = Number.isNaN(ms) ? "invalid-date" : "date";
    out.value = Number.isNaN(ms) ? String(decoded) : decoded.toISOString();
    out.ms = Number.isNaN(ms) ? null : ms;
  } else if (Array.isArray(decoded)) {
    out.kind = "array";
    out.value = decoded;
  } else if (typeof decoded === "number" && !Number.isFinite(decoded)) {
    out.kind = "non-finite-number";
    out.value = String(decoded);
  } else {
    out.kind = typeof decoded;
    out.value = decoded;
  }
  return out;
}

// flattenTable reads a result table through the SDK's own API: the columns, the rows() iterator
// with each row's named values, getValueAt, values() and toJSON(), and the table's index access.
// Disagreement between these views is an SDK-level inconsistency and fails the step.
function flattenTable(table) {
  const columns = table.columns.map((c) => ({ name: c.name, type: c.type, ordinal: c.ordinal }));
  const rows = [];
  let index = 0;
  for (const row of table.rows()) {
    const values = [...row.values()];
    const cells = columns.map((c, i) => {
      const named = row[c.name];
      const at = row.getValueAt(i);
      if (named !== at) {
        throw new Error(`row ${index}: getValueAt(${i}) differs from the named value of column ${c.name}`);
      }
      return cell(values[i], named);
    });
    const viaIndex = table[index];
    if (viaIndex && JSON.stringify(viaIndex.toJSON()) !== JSON.stringify(row.toJSON())) {
      throw new Error(`row ${index}: table[${index}] differs from rows()`);
    }
    rows.push(cells);
    index++;
  }
  const json = table.toJSON();
  if (json.data.length !== rows.length) {
    throw new Error(`toJSON() has ${json.data.length} rows, rows() ${rows.length}`);
  }
  JSON.parse(table.toString());
  return { name: table.name, kind: table.kind ?? null, id: table.id ?? null, columns, rows, json };
}

// describeResponse flattens a KustoResponseDataSet, calling the accessors a user would.
function describeResponse(res) {
  return {
    version: res.version,
    tableNames: res.tableNames,
    tables: res.tables.map((t) => ({ name: t.name, kind: t.kind ?? null, id: t.id ?? null, rowCount: t._rows?.length ?? null })),
    errorsCount: res.getErrorsCount(),
    exceptions: res.getExceptions(),
    warnings: res.getWarnings(),
    dataSetHeader: res.dataSetHeader ?? null,
    dataSetCompletion: res.dataSetCompletion ?? null,
    statusTable: res.statusTable ? flattenTable(res.statusTable) : null,
    primary: res.primaryResults.map(flattenTable),
  };
}

// describeError reports what the SDK threw: for HTTP failures the axios error (the SDK rethrows
// it, or wraps a 429 in ThrottlingError) with the status and the Kusto OneApiError body.
function describeError(err) {
  const out = {
    name: err?.name ?? null,
    message: err?.message ?? String(err),
    throttling: err instanceof KustoDataErrors.ThrottlingError,
  };
  const httpErr = out.throttling ? err.inner : err;
  if (httpErr?.isAxiosError) {
    out.http = true;
    const res = httpErr.response;
    out.status = res?.status ?? null;
    const body = res?.data;
    out.bodyKind = body === null || body === undefined ? "none" : typeof body;
    const e = typeof body === "object" && body !== null ? body.error : undefined;
    if (e) {
      out.code = e.code ?? null;
      out.errorMessage = e.message ?? null;
      out.type = e["@type"] ?? null;
      out.kustoMessage = e["@message"] ?? null;
      out.permanent = e["@permanent"] ?? null;
      out.clientRequestId = e["@context"]?.clientRequestId ?? null;
    }
  } else {
    out.http = false;
    out.stack = err?.stack ?? null;
  }
  return out;
}

async function runStep(client, database, step) {
  let props = null;
  if (step.params) {
    props = new ClientRequestProperties();
    for (const [name, value] of Object.entries(step.params)) {
      props.setParameter(name, value);
    }
  }
  const db = step.database ?? database;
  const report = { name: step.name, api: step.api, database: db, csl: step.csl, params: step.params ?? null };
  let res;
  try {
    res = await client[step.api](db, step.csl, props);
  } catch (err) {
    return { ...report, ok: false, error: describeError(err) };
  }
  try {
    return { ...report, ok: true, response: describeResponse(res) };
  } catch (err) {
    // The request succeeded but reading its result through the SDK threw.
    return { ...report, ok: false, readFailed: true, error: describeError(err) };
  }
}

// sdkVersion reads the installed SDK's package.json (its own SDK_VERSION constant lags behind).
function sdkVersion() {
  if (typeof import.meta.resolve !== "function") {
    return null;
  }
  let dir = dirname(fileURLToPath(import.meta.resolve("azure-kusto-data")));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (pkg.name === "azure-kusto-data") {
        return pkg.version;
      }
    } catch {
      // not this directory
    }
    const parent = dirname(dir);
    if (parent === dir) {
      return null;
    }
    dir = parent;
  }
}

async function main(argv) {
  const positional = argv.filter((a) => !a.startsWith("--"));
  const stepsFlag = argv.find((a) => a.startsWith("--steps="));
  if (positional.length < 1 || positional.length > 2) {
    process.stderr.write("usage: node check.mjs ENGINE_URL [DATABASE] [--steps=name,name...]\n");
    return 2;
  }
  const [url, database = "NetDefaultDB"] = positional;
  let steps = STEPS;
  if (stepsFlag) {
    const byName = new Map(STEPS.map((s) => [s.name, s]));
    steps = [];
    for (const name of stepsFlag.slice("--steps=".length).split(",")) {
      if (!byName.has(name)) {
        process.stderr.write(`unknown step ${name}; steps: ${[...byName.keys()].join(", ")}\n`);
        return 2;
      }
      steps.push(byName.get(name));
    }
  }
  const client = new Client(new KustoConnectionStringBuilder(url));
  const results = [];
  try {
    for (const step of steps) {
      results.push(await runStep(client, database, step));
    }
  } finally {
    client.close();
  }
  const report = {
    node: process.version,
    sdk: { name: "azure-kusto-data", version: sdkVersion() },
    engine: url,
    database,
    table: TABLE,
    columns: COLUMNS.map(([name, type]) => ({ name, type })),
    ingested: ROWS,
    steps: results,
  };
  process.stdout.write(JSON.stringify(report) + "\n");
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
