// Package restclients checks kconnect's REST API from the outside, with the clients users
// already drive Apache Kafka Connect with: the Azure kusto-labs Postman request sequences for
// the Kusto sink (replayed by newman), Redpanda Console's Go client (cloudhut/connect-client),
// ricardo-ch/go-kafka-connect, go-kafka/connect, the Terraform provider
// Mongey/terraform-provider-kafka-connect, and the curl walkthrough of the README.
//
// It is a module of its own, so none of these clients enters kconnect's go.mod. Its tests
// build the kconnect binary from the enclosing working tree, start `kconnect dev` (a Kafka
// broker, the Kusto emulator and one worker, with its demo) on free ports, and drive every
// client against that worker through a recording TCP proxy, so the tests can also check what
// went over the wire. Run them with
//
//	cd e2e/restclients && go test ./...
//
// The newman check needs node and npm; it installs the newman version pinned in
// package-lock.json with `npm ci` into the user cache directory on first use. The README check
// needs kcat. With -short, a missing tool skips its test instead of failing it.
//
// The collection also runs by hand against `make run`, once the topic `crimes` and the tables
// `crimes` and `Storms` with their mappings exist (TestPostmanKustoLabs creates them):
//
//	npm ci && npx newman run kusto-labs.postman_collection.json --env-var caFile=/tmp/kconnect-dev/kusto-ca.pem
//
// It leaves the quickstart's connector `storm` running.
package restclients
