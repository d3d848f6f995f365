// Package model is the emulator's data model: Kusto scalar types and how values convert to them,
// the cluster's databases, tables, extents, mappings and policies, query results, and the
// OneApiError that every failure is reported as.
//
// The rest of the emulator is built on it: the query and command language (kql, mgmt), the
// ingestion formats (ingest), the wire encodings (wire) and the HTTP service. State lives in a
// [Cluster]; read it inside [Cluster.View] and change it inside [Cluster.Update].
package model
