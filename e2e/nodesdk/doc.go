// Package nodesdk checks that Microsoft's Node.js Kusto SDK (the npm package azure-kusto-data,
// pinned in package-lock.json) accepts and decodes what the Kusto emulator (e2e/kustoemu) sends.
//
// Its test starts the emulator in-process, installs the SDK with `npm ci` into a cache
// directory, runs check.mjs (management commands, `.ingest inline`, queries over the v2 and v1
// endpoints, query parameters, failing requests) and compares every value the SDK decoded with
// what was ingested. check.mjs also runs on its own against any engine URL:
//
//	npm ci && node check.mjs http://127.0.0.1:8080 NetDefaultDB
//
// It prints one JSON report of what the SDK returned or threw for each step.
package nodesdk
