// Package docs holds the user documentation of kconnect (the Markdown pages beside this file)
// and the tests that keep it true to the code:
//
//   - TestConfigurationReference renders configuration.md from the configuration definitions the
//     code parses with (cluster.WorkerConfigDef, cluster.ConnectorConfigDef, task.ConfigDef, the
//     converters' definitions and kusto.ConfigDef) and the hand-written prose in
//     src/configuration.md.tmpl, and fails when the committed page differs.
//   - TestExamples checks that every worker.properties and connector JSON example in the pages is
//     accepted by the same parsers a worker uses.
//   - TestLinks checks that every relative link between the pages points at a file and heading
//     that exist.
//
// After changing a configuration key or the template, regenerate the reference with
//
//	go test ./docs/ -run TestConfigurationReference -update
//
// or go generate ./docs/.
package docs

//go:generate go test -run TestConfigurationReference -update .
